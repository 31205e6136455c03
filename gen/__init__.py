"""The `bnnmram` command line: a flow of named steps, each writing artefacts to a folder."""
