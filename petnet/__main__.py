from petnet.cli import main

raise SystemExit(main())
