"""The audit log's closed vocabulary: every action tepat records, named ``subject.verb``.

One convention: the subject is what the action is about (``family``, ``payment_batch``, ``cycle``), the verb what
was done to it (``create``, ``read``, ``approve``), both lowercase English words joined by ``_``. The audit page
shows the Indonesian label; ``tepat audit --action family`` (or the page's filter) finds every ``family.*``.
``audit.record`` accepts nothing else, so a new action is added here, with its label, or not at all.
Migration 0017 renamed the earlier, mixed names (``buat``, ``duplikat.cari``, ``usul.diterima``, …) to these.
"""

from __future__ import annotations

import re
from enum import StrEnum

from tepat.domain.cases import CaseKind
from tepat.domain.dci import Action

NAME = re.compile(r"^[a-z]+(_[a-z]+)*\.[a-z]+(_[a-z]+)*$")
"""``subject.verb``: the one naming convention (a test holds every member to it)."""


class AuditAction(StrEnum):
    # registry
    FAMILY_CREATE = "family.create"
    FAMILY_UPDATE = "family.update"
    FAMILY_VERIFY = "family.verify"
    FAMILY_READ = "family.read"
    FAMILY_READ_HISTORY = "family.read_history"
    FAMILY_SEARCH = "family.search"
    FAMILY_LIST = "family.list"
    MEMBER_CREATE = "member.create"
    MEMBER_UPDATE = "member.update"
    MEMBER_MOVE = "member.move"
    MEMBER_DEACTIVATE = "member.deactivate"
    MEMBER_READ = "member.read"
    REGISTRY_IMPORT = "registry.import"
    REGISTRY_EXPORT = "registry.export"
    EXPORT_DOWNLOAD = "export.download"
    IMPORT_MAPPING_SAVE = "import_mapping.save"
    CIVIL_REGISTRY_IMPORT = "civil_registry.import"
    MOVE_REQUEST = "move.request"
    MOVE_ACCEPT = "move.accept"
    MOVE_REFUSE = "move.refuse"
    VERIFICATION_READ_WORKLIST = "verification.read_worklist"
    # duplicates and linkage
    DUPLICATE_SEARCH = "duplicate.search"
    DUPLICATE_READ = "duplicate.read"
    DUPLICATE_DECIDE = "duplicate.decide"
    MERGE_REQUEST = "merge.request"
    MERGE_APPLY = "merge.apply"
    MERGE_CANCEL = "merge.cancel"
    LINKAGE_RUN = "linkage.run"
    LINKAGE_RESULT_READ = "linkage_result.read"
    LINKAGE_RESULT_DOWNLOAD = "linkage_result.download"
    # targeting
    PMT_MODEL_SAVE = "pmt_model.save"
    PMT_MODEL_RENAME = "pmt_model.rename"
    PMT_MODEL_DELETE = "pmt_model.delete"
    PMT_MODEL_EVALUATE = "pmt_model.evaluate"
    PMT_MODEL_RANK = "pmt_model.rank"
    PMT_MODEL_IMPORT_RANKS = "pmt_model.import_ranks"
    NATIONAL_SNAPSHOT_WRITE = "national_snapshot.write"
    # programmes and cycles
    PROGRAMME_CREATE = "programme.create"
    PROGRAMME_UPDATE = "programme.update"
    CANDIDATE_LIST = "candidate.list"
    EXPLANATION_READ = "explanation.read"
    OVERRIDE_REQUEST = "override.request"
    OVERRIDE_APPROVE = "override.approve"
    OVERRIDE_REJECT = "override.reject"
    CYCLE_CREATE = "cycle.create"
    CYCLE_GENERATE = "cycle.generate"
    CYCLE_SUBMIT = "cycle.submit"
    CYCLE_APPROVE = "cycle.approve"
    CYCLE_RETURN = "cycle.return"
    CYCLE_CANCEL = "cycle.cancel"
    CYCLE_CLOSE = "cycle.close"
    ENTITLEMENT_LIST = "entitlement.list"
    ENTITLEMENT_BLOCK = "entitlement.block"
    ENTITLEMENT_CANCEL = "entitlement.cancel"
    TRAINING_SEAT_LIST = "training_seat.list"
    TRAINING_SEAT_ENROL = "training_seat.enrol"
    TRAINING_SEAT_REFUSE = "training_seat.refuse"
    TRAINING_SEAT_ATTEND = "training_seat.attend"
    TRAINING_SEAT_COMPLETE = "training_seat.complete"
    TRAINING_SEAT_FAIL = "training_seat.fail"
    # payments and documents
    PAYMENT_BATCH_CREATE = "payment_batch.create"
    PAYMENT_BATCH_EXPORT = "payment_batch.export"
    PAYMENT_BATCH_IMPORT_RESULT = "payment_batch.import_result"
    PAYMENT_BATCH_REFUSE_RESULT = "payment_batch.refuse_result"
    PAYMENT_BATCH_CANCEL = "payment_batch.cancel"
    PAYMENT_BATCH_READ_FAILURES = "payment_batch.read_failures"
    RECONCILIATION_READ_MISMATCHES = "reconciliation.read_mismatches"
    NOMINATIF_PRINT = "nominatif.print"
    BAST_PRINT = "bast.print"
    ATTENDANCE_SHEET_PRINT = "attendance_sheet.print"
    DOCUMENT_DOWNLOAD = "document.download"
    FACILITY_REGISTER = "facility.register"
    FACILITY_REVOKE = "facility.revoke"
    # residents' cases
    PROPOSAL_CREATE = "proposal.create"
    PROPOSAL_MOVE = "proposal.move"
    DISPUTE_CREATE = "dispute.create"
    DISPUTE_MOVE = "dispute.move"
    COMPLAINT_CREATE = "complaint.create"
    COMPLAINT_MOVE = "complaint.move"
    CASE_READ = "case.read"
    UPLOAD_READ = "upload.read"
    # statistics
    BPS_POVERTY_IMPORT = "bps_poverty.import"
    # DCI
    DCI_SEARCH = "dci.search"
    DCI_SUBSCRIBE = "dci.subscribe"
    DCI_UNSUBSCRIBE = "dci.unsubscribe"
    DCI_TXN_STATUS = "dci.txn_status"
    DCI_NOTIFY = "dci.notify"
    DCI_CLIENT_CREATE = "dci_client.create"
    DCI_CLIENT_REVOKE = "dci_client.revoke"
    DCI_SUBSCRIPTION_END = "dci_subscription.end"
    DCI_CRVS_SUBSCRIBE = "dci_crvs.subscribe"
    # accounts
    LOGIN_SUCCEED = "login.succeed"
    LOGIN_FAIL = "login.fail"
    LOGIN_ACCEPT_PASSWORD = "login.accept_password"
    LOGIN_CHALLENGE = "login.challenge"
    LOGIN_REJECT_CODE = "login.reject_code"
    USER_CREATE = "user.create"
    USER_DEACTIVATE = "user.deactivate"
    USER_PASSWORD_CHANGE = "user.password_change"
    USER_PASSWORD_SET = "user.password_set"
    USER_PASSWORD_RESET = "user.password_reset"
    USER_SESSIONS_END = "user.sessions_end"
    USER_SECOND_FACTOR_ON = "user.second_factor_on"
    USER_SECOND_FACTOR_OFF = "user.second_factor_off"
    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"
    AUDIT_LOG_READ = "audit_log.read"
    AUDIT_LOG_EXPORT = "audit_log.export"

    @property
    def label(self) -> str:
        """What the audit page says (Bahasa Indonesia)."""
        return LABELS[self]

    @classmethod
    def case_created(cls, kind: CaseKind | str) -> AuditAction:
        return _CASE_CREATED[CaseKind(kind)]

    @classmethod
    def case_moved(cls, kind: CaseKind | str) -> AuditAction:
        return _CASE_MOVED[CaseKind(kind)]

    @classmethod
    def dci_request(cls, action: Action | str) -> AuditAction:
        """A DCI request received from a client (``search``, ``subscribe``, ``txn-status``, …)."""
        return _DCI_REQUESTS[Action(action)]


_A = AuditAction
_CASE_CREATED = {
    CaseKind.USUL: _A.PROPOSAL_CREATE,
    CaseKind.SANGGAH: _A.DISPUTE_CREATE,
    CaseKind.PENGADUAN: _A.COMPLAINT_CREATE,
}
_CASE_MOVED = {
    CaseKind.USUL: _A.PROPOSAL_MOVE,
    CaseKind.SANGGAH: _A.DISPUTE_MOVE,
    CaseKind.PENGADUAN: _A.COMPLAINT_MOVE,
}
_DCI_REQUESTS = {
    Action.SEARCH: _A.DCI_SEARCH,
    Action.SUBSCRIBE: _A.DCI_SUBSCRIBE,
    Action.UNSUBSCRIBE: _A.DCI_UNSUBSCRIBE,
    Action.TXN_STATUS: _A.DCI_TXN_STATUS,
    Action.NOTIFY: _A.DCI_NOTIFY,
}

LABELS: dict[AuditAction, str] = {
    _A.FAMILY_CREATE: "Keluarga didaftarkan",
    _A.FAMILY_UPDATE: "Data keluarga diubah",
    _A.FAMILY_VERIFY: "Hasil verifikasi lapangan dicatat",
    _A.FAMILY_READ: "Data keluarga dibaca",
    _A.FAMILY_READ_HISTORY: "Riwayat keluarga dibaca",
    _A.FAMILY_SEARCH: "Pencarian keluarga",
    _A.FAMILY_LIST: "Daftar keluarga dibaca",
    _A.MEMBER_CREATE: "Anggota ditambahkan",
    _A.MEMBER_UPDATE: "Data anggota diubah",
    _A.MEMBER_MOVE: "Anggota dipindahkan ke KK lain",
    _A.MEMBER_DEACTIVATE: "Anggota dinonaktifkan",
    _A.MEMBER_READ: "Data anggota dibaca",
    _A.REGISTRY_IMPORT: "Impor registri",
    _A.REGISTRY_EXPORT: "Ekspor registri",
    _A.EXPORT_DOWNLOAD: "Berkas ekspor diunduh",
    _A.IMPORT_MAPPING_SAVE: "Pemetaan kolom impor disimpan",
    _A.CIVIL_REGISTRY_IMPORT: "Impor data Dukcapil",
    _A.MOVE_REQUEST: "Permintaan pindah wilayah diajukan",
    _A.MOVE_ACCEPT: "Permintaan pindah wilayah diterima",
    _A.MOVE_REFUSE: "Permintaan pindah wilayah ditolak",
    _A.VERIFICATION_READ_WORKLIST: "Daftar kerja verifikasi dibaca",
    _A.DUPLICATE_SEARCH: "Pencarian duplikat dijalankan",
    _A.DUPLICATE_READ: "Pasangan duplikat dibaca",
    _A.DUPLICATE_DECIDE: "Keputusan atas pasangan duplikat",
    _A.MERGE_REQUEST: "Penggabungan data ganda diajukan",
    _A.MERGE_APPLY: "Data ganda digabungkan",
    _A.MERGE_CANCEL: "Penggabungan data ganda dibatalkan",
    _A.LINKAGE_RUN: "Penautan dengan daftar lain dijalankan",
    _A.LINKAGE_RESULT_READ: "Hasil penautan dibaca",
    _A.LINKAGE_RESULT_DOWNLOAD: "Hasil penautan diunduh",
    _A.PMT_MODEL_SAVE: "Model PMT disimpan",
    _A.PMT_MODEL_RENAME: "Model PMT diganti nama",
    _A.PMT_MODEL_DELETE: "Model PMT dihapus",
    _A.PMT_MODEL_EVALUATE: "Model PMT dievaluasi",
    _A.PMT_MODEL_RANK: "Peringkat desil dihitung",
    _A.PMT_MODEL_IMPORT_RANKS: "Peringkat nasional diimpor",
    _A.NATIONAL_SNAPSHOT_WRITE: "Cuplikan untuk peringkat nasional ditulis",
    _A.PROGRAMME_CREATE: "Program dibuat",
    _A.PROGRAMME_UPDATE: "Program diubah",
    _A.CANDIDATE_LIST: "Daftar calon penerima dibaca",
    _A.EXPLANATION_READ: "Penjelasan kelayakan dibaca",
    _A.OVERRIDE_REQUEST: "Pengecualian kelayakan diajukan",
    _A.OVERRIDE_APPROVE: "Pengecualian kelayakan disetujui",
    _A.OVERRIDE_REJECT: "Pengecualian kelayakan ditolak",
    _A.CYCLE_CREATE: "Siklus dibuat",
    _A.CYCLE_GENERATE: "Daftar penerima siklus disusun",
    _A.CYCLE_SUBMIT: "Siklus diajukan",
    _A.CYCLE_APPROVE: "Siklus disetujui",
    _A.CYCLE_RETURN: "Siklus dikembalikan",
    _A.CYCLE_CANCEL: "Siklus dibatalkan",
    _A.CYCLE_CLOSE: "Siklus ditutup",
    _A.ENTITLEMENT_LIST: "Daftar penerima siklus dibaca",
    _A.ENTITLEMENT_BLOCK: "Hak penerima diblokir",
    _A.ENTITLEMENT_CANCEL: "Hak penerima dibatalkan",
    _A.TRAINING_SEAT_LIST: "Daftar peserta pelatihan dibaca",
    _A.TRAINING_SEAT_ENROL: "Peserta pelatihan didaftarkan",
    _A.TRAINING_SEAT_REFUSE: "Peserta pelatihan ditolak",
    _A.TRAINING_SEAT_ATTEND: "Kehadiran pelatihan dicatat",
    _A.TRAINING_SEAT_COMPLETE: "Peserta pelatihan lulus",
    _A.TRAINING_SEAT_FAIL: "Peserta pelatihan tidak lulus",
    _A.PAYMENT_BATCH_CREATE: "Batch pembayaran dibuat",
    _A.PAYMENT_BATCH_EXPORT: "Berkas pembayaran diekspor",
    _A.PAYMENT_BATCH_IMPORT_RESULT: "Hasil penyaluran diimpor",
    _A.PAYMENT_BATCH_REFUSE_RESULT: "Berkas hasil penyaluran ditolak",
    _A.PAYMENT_BATCH_CANCEL: "Batch pembayaran dibatalkan",
    _A.PAYMENT_BATCH_READ_FAILURES: "Daftar pembayaran gagal dibaca",
    _A.RECONCILIATION_READ_MISMATCHES: "Selisih rekonsiliasi dibaca",
    _A.NOMINATIF_PRINT: "Daftar Nominatif dicetak",
    _A.BAST_PRINT: "BAST dicetak",
    _A.ATTENDANCE_SHEET_PRINT: "Daftar hadir dicetak",
    _A.DOCUMENT_DOWNLOAD: "Dokumen diunduh",
    _A.FACILITY_REGISTER: "Fasilitas kesehatan didaftarkan",
    _A.FACILITY_REVOKE: "Kunci fasilitas kesehatan dicabut",
    _A.PROPOSAL_CREATE: "Usul diajukan",
    _A.PROPOSAL_MOVE: "Status usul diubah",
    _A.DISPUTE_CREATE: "Sanggah diajukan",
    _A.DISPUTE_MOVE: "Status sanggah diubah",
    _A.COMPLAINT_CREATE: "Pengaduan diajukan",
    _A.COMPLAINT_MOVE: "Status pengaduan diubah",
    _A.CASE_READ: "Kasus dibaca",
    _A.UPLOAD_READ: "Lampiran dibuka",
    _A.BPS_POVERTY_IMPORT: "Data kemiskinan BPS diimpor",
    _A.DCI_SEARCH: "Pencarian DCI",
    _A.DCI_SUBSCRIBE: "Langganan DCI diminta",
    _A.DCI_UNSUBSCRIBE: "Langganan DCI dihentikan",
    _A.DCI_TXN_STATUS: "Status transaksi DCI ditanyakan",
    _A.DCI_NOTIFY: "Pemberitahuan DCI",
    _A.DCI_CLIENT_CREATE: "Klien DCI didaftarkan",
    _A.DCI_CLIENT_REVOKE: "Klien DCI dicabut",
    _A.DCI_SUBSCRIPTION_END: "Langganan DCI diakhiri",
    _A.DCI_CRVS_SUBSCRIBE: "Langganan peristiwa Dukcapil dibuat",
    _A.LOGIN_SUCCEED: "Masuk",
    _A.LOGIN_FAIL: "Gagal masuk",
    _A.LOGIN_ACCEPT_PASSWORD: "Kata sandi benar, menunggu kode",
    _A.LOGIN_CHALLENGE: "Diminta kode verifikasi",
    _A.LOGIN_REJECT_CODE: "Kode verifikasi salah",
    _A.USER_CREATE: "Pengguna dibuat",
    _A.USER_DEACTIVATE: "Pengguna dinonaktifkan",
    _A.USER_PASSWORD_CHANGE: "Kata sandi diganti",
    _A.USER_PASSWORD_SET: "Kata sandi ditetapkan",
    _A.USER_PASSWORD_RESET: "Kata sandi diatur ulang",
    _A.USER_SESSIONS_END: "Semua sesi diakhiri",
    _A.USER_SECOND_FACTOR_ON: "Verifikasi dua langkah diaktifkan",
    _A.USER_SECOND_FACTOR_OFF: "Verifikasi dua langkah dimatikan",
    _A.TOKEN_CREATE: "Token API dibuat",
    _A.TOKEN_REVOKE: "Token API dicabut",
    _A.AUDIT_LOG_READ: "Log audit dibaca",
    _A.AUDIT_LOG_EXPORT: "Log audit diekspor",
}


def action_label(name: str) -> str:
    """The label of a stored action name; the name itself for one this version does not know."""
    try:
        return LABELS[AuditAction(name)]
    except ValueError:
        return name


def audit_action_table() -> str:
    """The vocabulary as the Markdown table docs/security.md prints (a test checks the two agree)."""
    lines = ["| action | shown as |", "|---|---|"]
    lines += [f"| `{action.value}` | {LABELS[action]} |" for action in AuditAction]
    return "\n".join(lines)
