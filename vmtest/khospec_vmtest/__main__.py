import sys

from khospec_vmtest.cli import main

sys.exit(main())
