from rpcli.cli.main import main

main()
