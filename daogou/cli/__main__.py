from daogou.cli import main

main()
