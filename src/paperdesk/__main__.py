from paperdesk.cli import main

main()
