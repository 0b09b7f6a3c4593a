"""A carrier's hard capacity holds at every moment, whatever makes members leave."""

from __future__ import annotations

import numpy as np
import pytest

from engine.model.membership import Membership
from engine.model.simulation import simulate
from engine.scenario.schema import Scenario


def _group(campaigns: list[dict[str, object]], monthly_exit_rate: float) -> Scenario:
    return Scenario.model_validate(
        {
            "meta": {"name": "capacity"},
            "horizon": {"acquisition_days": 120, "horizon_days": 240, "clv_horizon_days": 120},
            "sources": [{"id": "s", "reach": {"organic_per_day": 300}, "take_rate": 1.0, "path": "p"}],
            "paths": [{"id": "p", "carrier": "c"}],
            "carriers": [
                {
                    "id": "c",
                    "kind": "group",
                    "monthly_exit_rate": monthly_exit_rate,
                    "capacity_per_account": 1000,
                    "accounts": 1,
                    "when_full": "turn_away",
                }
            ],
            "campaigns": campaigns,
            "disturbance": {"tolerance_per_week": 3, "exit_probability_per_excess_touch": 0.05},
            "products": [{"id": "x", "price": {"dist": "fixed", "value": 10}}],
        }
    )


SPAM = [
    {
        "id": "spam",
        "channel": "wecom_group",
        "carrier": "c",
        "schedule": {"every_days": 1},
        "response": {"default": 0.0},
    }
]


@pytest.mark.parametrize(("campaigns", "exit_rate"), [([], 0.5), (SPAM, 0.5), (SPAM, 0.0)])
def test_members_present_never_exceed_capacity(campaigns: list[dict[str, object]], exit_rate: float) -> None:
    """Exits drawn ahead free a slot only when they happen, and annoyance exits free it once."""
    ledger = simulate(_group(campaigns, exit_rate), seed=1)
    memberships = ledger.memberships
    times = np.arange(0.0, 240.0, 0.25)
    present = [np.sum((memberships.join_day <= t) & (memberships.exit_day > t)) for t in times]
    assert max(present) <= 1000
    assert max(present) >= 950  # the group does fill up: the limit binds
    assert ledger.turned_away[0] > 0


@pytest.mark.parametrize(("campaigns", "exit_rate"), [([], 0.5), (SPAM, 0.5), (SPAM, 0.0)])
def test_kept_count_of_present_members_equals_a_recount(
    campaigns: list[dict[str, object]], exit_rate: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count a full carrier keeps between recounts (the last count plus memberships started since, while
    no exit can have passed) equals counting the present members afresh, at every admission. Without
    campaigns some admissions are answered from the kept count; daily annoyance exits make most recount."""
    answers: list[tuple[int, int]] = []
    recounts = 0
    counting = False
    kept_count = Membership._present_count
    present = Membership.present_memberships

    def checked(self: Membership, carrier: int, day: float) -> int:
        nonlocal counting
        counting = True
        answer = kept_count(self, carrier, day)
        counting = False
        answers.append((answer, present(self, carrier, day).size))
        return answer

    def counted(self: Membership, carrier: int, now: float) -> np.ndarray:
        nonlocal recounts
        recounts += counting
        return present(self, carrier, now)

    monkeypatch.setattr(Membership, "_present_count", checked)
    monkeypatch.setattr(Membership, "present_memberships", counted)
    simulate(_group(campaigns, exit_rate), seed=1)
    assert answers and all(kept == fresh for kept, fresh in answers), answers[:5]
    if not campaigns:
        assert recounts < len(answers), (recounts, len(answers))
