from rpcli.cli.entry import main

main()
