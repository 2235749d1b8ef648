from causerie.cli import main

main()
