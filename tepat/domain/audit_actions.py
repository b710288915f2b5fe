"""The audit log's closed vocabulary: every action tepat records, named ``subject.verb``.

One convention: the subject is what the action is about (``family``, ``payment_batch``, ``cycle``), the verb what
was done to it (``create``, ``read``, ``approve``), both lowercase English words joined by ``_``. The audit page
shows the Indonesian label; ``tepat audit --action family`` (or the page's filter) finds every ``family.*``.
``audit.record`` accepts nothing else, so a new action is added here, with its label, or not at all.
Migration 0017 renamed the earlier, mixed names (``buat``, ``duplikat.cari``, ``usul.diterima``, …) to these.
"""

from __future__ import annotations

import re

from tepat.domain.cases import CaseKind
from tepat.domain.dci import Action
from tepat.domain.vocabulary import Labelled

NAME = re.compile(r"^[a-z]+(_[a-z]+)*\.[a-z]+(_[a-z]+)*$")
"""``subject.verb``: the one naming convention (a test holds every member to it)."""


class AuditAction(Labelled):
    # registry
    FAMILY_CREATE = "family.create", "Keluarga didaftarkan"
    FAMILY_UPDATE = "family.update", "Data keluarga diubah"
    FAMILY_VERIFY = "family.verify", "Hasil verifikasi lapangan dicatat"
    FAMILY_READ = "family.read", "Data keluarga dibaca"
    FAMILY_READ_HISTORY = "family.read_history", "Riwayat keluarga dibaca"
    FAMILY_SEARCH = "family.search", "Pencarian keluarga"
    FAMILY_LIST = "family.list", "Daftar keluarga dibaca"
    MEMBER_CREATE = "member.create", "Anggota ditambahkan"
    MEMBER_UPDATE = "member.update", "Data anggota diubah"
    MEMBER_MOVE = "member.move", "Anggota dipindahkan ke KK lain"
    MEMBER_DEACTIVATE = "member.deactivate", "Anggota dinonaktifkan"
    MEMBER_READ = "member.read", "Data anggota dibaca"
    REGISTRY_IMPORT = "registry.import", "Impor registri"
    REGISTRY_EXPORT = "registry.export", "Ekspor registri"
    EXPORT_DOWNLOAD = "export.download", "Berkas ekspor diunduh"
    IMPORT_MAPPING_SAVE = "import_mapping.save", "Pemetaan kolom impor disimpan"
    CIVIL_REGISTRY_IMPORT = "civil_registry.import", "Impor data Dukcapil"
    MOVE_REQUEST = "move.request", "Permintaan pindah wilayah diajukan"
    MOVE_ACCEPT = "move.accept", "Permintaan pindah wilayah diterima"
    MOVE_REFUSE = "move.refuse", "Permintaan pindah wilayah ditolak"
    VERIFICATION_READ_WORKLIST = "verification.read_worklist", "Daftar kerja verifikasi dibaca"
    # duplicates and linkage
    DUPLICATE_SEARCH = "duplicate.search", "Pencarian duplikat dijalankan"
    DUPLICATE_READ = "duplicate.read", "Pasangan duplikat dibaca"
    DUPLICATE_DECIDE = "duplicate.decide", "Keputusan atas pasangan duplikat"
    MERGE_REQUEST = "merge.request", "Penggabungan data ganda diajukan"
    MERGE_APPLY = "merge.apply", "Data ganda digabungkan"
    MERGE_CANCEL = "merge.cancel", "Penggabungan data ganda dibatalkan"
    LINKAGE_RUN = "linkage.run", "Penautan dengan daftar lain dijalankan"
    LINKAGE_RESULT_READ = "linkage_result.read", "Hasil penautan dibaca"
    LINKAGE_RESULT_DOWNLOAD = "linkage_result.download", "Hasil penautan diunduh"
    # targeting
    PMT_MODEL_SAVE = "pmt_model.save", "Model PMT disimpan"
    PMT_MODEL_RENAME = "pmt_model.rename", "Model PMT diganti nama"
    PMT_MODEL_DELETE = "pmt_model.delete", "Model PMT dihapus"
    PMT_MODEL_EVALUATE = "pmt_model.evaluate", "Model PMT dievaluasi"
    PMT_MODEL_RANK = "pmt_model.rank", "Peringkat desil dihitung"
    PMT_MODEL_IMPORT_RANKS = "pmt_model.import_ranks", "Peringkat nasional diimpor"
    NATIONAL_SNAPSHOT_WRITE = "national_snapshot.write", "Cuplikan untuk peringkat nasional ditulis"
    # programmes and cycles
    PROGRAMME_CREATE = "programme.create", "Program dibuat"
    PROGRAMME_UPDATE = "programme.update", "Program diubah"
    CANDIDATE_LIST = "candidate.list", "Daftar calon penerima dibaca"
    EXPLANATION_READ = "explanation.read", "Penjelasan kelayakan dibaca"
    OVERRIDE_REQUEST = "override.request", "Pengecualian kelayakan diajukan"
    OVERRIDE_APPROVE = "override.approve", "Pengecualian kelayakan disetujui"
    OVERRIDE_REJECT = "override.reject", "Pengecualian kelayakan ditolak"
    CYCLE_CREATE = "cycle.create", "Siklus dibuat"
    CYCLE_GENERATE = "cycle.generate", "Daftar penerima siklus disusun"
    CYCLE_SUBMIT = "cycle.submit", "Siklus diajukan"
    CYCLE_APPROVE = "cycle.approve", "Siklus disetujui"
    CYCLE_RETURN = "cycle.return", "Siklus dikembalikan"
    CYCLE_CANCEL = "cycle.cancel", "Siklus dibatalkan"
    CYCLE_CLOSE = "cycle.close", "Siklus ditutup"
    ENTITLEMENT_LIST = "entitlement.list", "Daftar penerima siklus dibaca"
    ENTITLEMENT_BLOCK = "entitlement.block", "Hak penerima diblokir"
    ENTITLEMENT_CANCEL = "entitlement.cancel", "Hak penerima dibatalkan"
    TRAINING_SEAT_LIST = "training_seat.list", "Daftar peserta pelatihan dibaca"
    TRAINING_SEAT_ENROL = "training_seat.enrol", "Peserta pelatihan didaftarkan"
    TRAINING_SEAT_REFUSE = "training_seat.refuse", "Peserta pelatihan ditolak"
    TRAINING_SEAT_ATTEND = "training_seat.attend", "Kehadiran pelatihan dicatat"
    TRAINING_SEAT_COMPLETE = "training_seat.complete", "Peserta pelatihan lulus"
    TRAINING_SEAT_FAIL = "training_seat.fail", "Peserta pelatihan tidak lulus"
    # payments and documents
    PAYMENT_BATCH_CREATE = "payment_batch.create", "Batch pembayaran dibuat"
    PAYMENT_BATCH_EXPORT = "payment_batch.export", "Berkas pembayaran diekspor"
    PAYMENT_BATCH_IMPORT_RESULT = "payment_batch.import_result", "Hasil penyaluran diimpor"
    PAYMENT_BATCH_REFUSE_RESULT = "payment_batch.refuse_result", "Berkas hasil penyaluran ditolak"
    PAYMENT_BATCH_CANCEL = "payment_batch.cancel", "Batch pembayaran dibatalkan"
    PAYMENT_BATCH_READ_FAILURES = "payment_batch.read_failures", "Daftar pembayaran gagal dibaca"
    RECONCILIATION_READ_MISMATCHES = "reconciliation.read_mismatches", "Selisih rekonsiliasi dibaca"
    NOMINATIF_PRINT = "nominatif.print", "Daftar Nominatif dicetak"
    BAST_PRINT = "bast.print", "BAST dicetak"
    ATTENDANCE_SHEET_PRINT = "attendance_sheet.print", "Daftar hadir dicetak"
    DOCUMENT_DOWNLOAD = "document.download", "Dokumen diunduh"
    FACILITY_REGISTER = "facility.register", "Fasilitas kesehatan didaftarkan"
    FACILITY_REVOKE = "facility.revoke", "Kunci fasilitas kesehatan dicabut"
    # residents' cases
    PROPOSAL_CREATE = "proposal.create", "Usul diajukan"
    PROPOSAL_MOVE = "proposal.move", "Status usul diubah"
    DISPUTE_CREATE = "dispute.create", "Sanggah diajukan"
    DISPUTE_MOVE = "dispute.move", "Status sanggah diubah"
    COMPLAINT_CREATE = "complaint.create", "Pengaduan diajukan"
    COMPLAINT_MOVE = "complaint.move", "Status pengaduan diubah"
    CASE_READ = "case.read", "Kasus dibaca"
    UPLOAD_READ = "upload.read", "Lampiran dibuka"
    # statistics
    BPS_POVERTY_IMPORT = "bps_poverty.import", "Data kemiskinan BPS diimpor"
    # DCI
    DCI_SEARCH = "dci.search", "Pencarian DCI"
    DCI_SUBSCRIBE = "dci.subscribe", "Langganan DCI diminta"
    DCI_UNSUBSCRIBE = "dci.unsubscribe", "Langganan DCI dihentikan"
    DCI_TXN_STATUS = "dci.txn_status", "Status transaksi DCI ditanyakan"
    DCI_NOTIFY = "dci.notify", "Pemberitahuan DCI"
    DCI_CLIENT_CREATE = "dci_client.create", "Klien DCI didaftarkan"
    DCI_CLIENT_REVOKE = "dci_client.revoke", "Klien DCI dicabut"
    DCI_SUBSCRIPTION_END = "dci_subscription.end", "Langganan DCI diakhiri"
    DCI_CRVS_SUBSCRIBE = "dci_crvs.subscribe", "Langganan peristiwa Dukcapil dibuat"
    # accounts
    LOGIN_SUCCEED = "login.succeed", "Masuk"
    LOGIN_FAIL = "login.fail", "Gagal masuk"
    LOGIN_ACCEPT_PASSWORD = "login.accept_password", "Kata sandi benar, menunggu kode"
    LOGIN_CHALLENGE = "login.challenge", "Diminta kode verifikasi"
    LOGIN_REJECT_CODE = "login.reject_code", "Kode verifikasi salah"
    USER_CREATE = "user.create", "Pengguna dibuat"
    USER_DEACTIVATE = "user.deactivate", "Pengguna dinonaktifkan"
    USER_PASSWORD_CHANGE = "user.password_change", "Kata sandi diganti"
    USER_PASSWORD_SET = "user.password_set", "Kata sandi ditetapkan"
    USER_PASSWORD_RESET = "user.password_reset", "Kata sandi diatur ulang"
    USER_SESSIONS_END = "user.sessions_end", "Semua sesi diakhiri"
    USER_SECOND_FACTOR_ON = "user.second_factor_on", "Verifikasi dua langkah diaktifkan"
    USER_SECOND_FACTOR_OFF = "user.second_factor_off", "Verifikasi dua langkah dimatikan"
    TOKEN_CREATE = "token.create", "Token API dibuat"
    TOKEN_REVOKE = "token.revoke", "Token API dicabut"
    AUDIT_LOG_READ = "audit_log.read", "Log audit dibaca"
    AUDIT_LOG_EXPORT = "audit_log.export", "Log audit diekspor"

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


def action_label(name: str) -> str:
    """The label of a stored action name; the name itself for one this version does not know."""
    try:
        return AuditAction(name).label
    except ValueError:
        return name


def audit_action_table() -> str:
    """The vocabulary as the Markdown table docs/security.md prints (a test checks the two agree)."""
    lines = ["| action | shown as |", "|---|---|"]
    lines += [f"| `{action.value}` | {action.label} |" for action in AuditAction]
    return "\n".join(lines)
