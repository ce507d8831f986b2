from bouncesink.cli import main

raise SystemExit(main())
