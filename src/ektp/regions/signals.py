"""What the regions app tells others (it imports none of them for this)."""

from django.dispatch import Signal

# Sent inside the transaction that applies a region change decree, with `change_set` (the
# RegionChangeSet), `successors` ({old code: new code} of the regions it ended) and
# `resident_ids` (every resident whose address it changed). Coverage re-bases its targets and
# forgets its counts; notifications tell the residents after commit.
region_change_applied = Signal()
