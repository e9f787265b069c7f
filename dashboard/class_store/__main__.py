"""`python -m dashboard.class_store`: open the class store that CLASS_STORE names, once, before any replica starts
(scripts/serve_class.sh), and say which it is in one line; exit 1 with the reason when it cannot be opened."""

from __future__ import annotations

import logging
import sys

from dashboard.class_store import ClassError, SQLiteStore, open_store


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="class store: %(message)s")  # the reason, for the operator
    try:
        store = open_store()
    except ClassError as e:
        print(f"class store: {e}", file=sys.stderr)
        return 1
    if isinstance(store, SQLiteStore):
        print(f"class store: the SQLite file {store.path}, shared by the replicas on this machine")
    else:  # not the address: it may hold a password
        print("class store: the Redis that CLASS_STORE names, shared by every replica given the same CLASS_STORE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
