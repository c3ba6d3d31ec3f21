"""OKR grades: each person an OKR applies to and each org unit, graded per period from the
query store's figures (``rounds.runtime.store.read``), explained, frozen once the period is
over and closed, recomputed on purpose (``rounds okr recompute``)."""
