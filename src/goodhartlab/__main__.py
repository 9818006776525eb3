from goodhartlab.cli import main

main()
