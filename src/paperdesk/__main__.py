from paperdesk.quick import main

main()
