"""Releases: the history (releases/releases.yaml: history.py), the values a release changes (changes.py),
the acceptances of those changes (releases/changes/: records.py), the one decision of whether and with
which changes a snapshot is published (gate.py), the release documents (docs.py), and the atomic swap
of the release on disk with its recovery (swap.py; the build lock they hold is pipeline/common/lock.py).

The rules, as docs/releases.md states them:
- The anchor of what was released is the committed history: the release list, the snapshots in raw/ it
  names (every released snapshot stays there) and the acceptances. A published file is never read to
  decide anything.
- The newest release is built from the snapshot raw/manifest.json names as current; another snapshot
  is another release, entered in the list first.
- Every build recomputes the changes of every release from its snapshot and its predecessor's, with
  the build's code, and requires the last recorded acceptance of that release to be bound (by its
  digest) to exactly those changes; any difference stops the build, naming the rows.
- `publish --accept-changes WHO` records an acceptance of the recomputed changes (appended, never
  replacing an earlier one) once the new release passes every check.
"""
