"""Pure preference maths on rankings: tiers → pairs, consensus, agreement and QC signals.

A ranking is ``tiers: list[list[int]]`` of candidate ids, best → worst; candidates in one tier are
tied. A ``not_rankable`` ranking is the empty tier list ``[]`` and contributes nothing. Nothing
here imports Django or touches the database, so services, tasks and the training side can all
call it.
"""
