complete --keep-order --exclusive --command mgrid --arguments "(COMPLETE=fish mgrid -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
