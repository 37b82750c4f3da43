from vigil.commands.cli import main

main()
