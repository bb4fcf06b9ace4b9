"""``python -m oneringai.cli``."""

from oneringai.cli.main import main

raise SystemExit(main())
