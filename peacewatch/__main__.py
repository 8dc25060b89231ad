from peacewatch.cli import main

main()
