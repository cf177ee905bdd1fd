package main

import (
	"database/sql"

	_ "modernc.org/sqlite" // the driver the ledger uses
)

func sqlOpen(path string) (*sql.DB, error) { return sql.Open("sqlite", path) }
