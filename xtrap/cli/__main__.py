"""``python -m xtrap.cli``: the same as the ``xtrap`` console script."""

from . import main

raise SystemExit(main())
