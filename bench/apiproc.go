package main

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/fluxera/activity/domain/postgres"
)

// startAPI starts bin/fluxera api on the schema of cfg and a loopback
// port of its own, with env added to the bench's environment, and returns
// the process and its base URL once it is ready. When the bench ends the
// process is stopped and the schema dropped.
func startAPI(e *env, cfg postgres.Config, env ...string) (*exec.Cmd, string) {
	addr := freeAddr()
	cmd := exec.Command(e.bin, "api")
	cmd.Env = append(append(os.Environ(), env...), "FLUXERA_DATABASE_SCHEMA="+cfg.Schema, "FLUXERA_HTTP_ADDR="+addr,
		"FLUXERA_OPS_ADDR="+freeAddr(), "FLUXERA_COOKIE_SECURE=false") // plain HTTP on loopback
	cmd.Stderr = os.Stderr
	// The process must not outlive a bench that is killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		fatalf("start %s api: %v", e.bin, err)
	}
	atExit(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if db, err := postgres.Open(cfg); err == nil {
			db.DropSchema(context.Background())
			db.Close()
		}
	})
	base := "http://" + addr
	waitReadyAt(base, time.Minute)
	return cmd, base
}
