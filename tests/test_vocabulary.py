"""Every closed vocabulary of the domain is a ``Labelled`` StrEnum: a member is its stored value and carries its
label (``tepat.domain.vocabulary``)."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from enum import StrEnum

import pytest

import tepat.domain
from tepat.domain.cycles import CycleState
from tepat.domain.payments import BatchState
from tepat.domain.vocabulary import Labelled


def _domain_enums() -> list[type[StrEnum]]:
    found = []
    for module in pkgutil.iter_modules(tepat.domain.__path__):
        loaded = importlib.import_module(f"tepat.domain.{module.name}")
        found += [
            value
            for value in vars(loaded).values()
            if inspect.isclass(value) and issubclass(value, StrEnum) and value.__module__ == loaded.__name__
        ]
    return found


def test_a_member_is_its_value_and_carries_its_label() -> None:
    assert BatchState.DIEKSPOR == "diekspor" and BatchState("diekspor") is BatchState.DIEKSPOR
    assert BatchState.DIEKSPOR.label == "Berkas diekspor" and BatchState.DIEKSPOR.value == "diekspor"
    assert json.dumps({"state": CycleState.DISETUJUI}) == '{"state": "disetujui"}'
    assert f"{CycleState.DISETUJUI}" == "disetujui"


def test_a_member_without_its_label_is_refused_where_it_is_written() -> None:
    with pytest.raises(TypeError, match="label"):

        class Unlabelled(Labelled):
            ONE = "satu"


def test_every_vocabulary_with_labels_is_labelled_one_way() -> None:
    enums = _domain_enums()
    assert len(enums) >= 25
    by_property = [e.__name__ for e in enums if isinstance(vars(e).get("label"), property)]
    assert by_property == [], "a label written as a property beside the members: make the enum Labelled"
    labelled = [e for e in enums if issubclass(e, Labelled)]
    assert len(labelled) >= 22
    assert all(member.label.strip() for e in labelled for member in e)
