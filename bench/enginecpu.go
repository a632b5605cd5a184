package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/internal/cputime"
)

// redisCPUSeconds is the CPU time the Redis server the platform uses has
// spent.
func redisCPUSeconds() float64 {
	addr := os.Getenv("FLUXERA_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:16379"
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cpu, err := cputime.Redis(ctx, c)
	if err != nil {
		fatalf("%v", err)
	}
	return cpu
}

// cpuFigure is a component's CPU-seconds per million events beside the
// engine's over the same events.
func cpuFigure(name, engine string, componentCPU, engineCPU float64, events int, notes string) Figure {
	per := func(cpu float64) float64 { return cpu / float64(events) * 1e6 }
	return Figure{
		Name: name, Value: round2(per(componentCPU)), Unit: "CPU-s per million events",
		Baseline: &Baseline{Name: engine, Value: round2(per(engineCPU))}, Ratio: round2(componentCPU / engineCPU),
		Notes: fmt.Sprintf("User and system CPU time over %d events: %.1f s in the component's process (/proc/<pid>/stat), %.1f s in the engine it feeds over the same time. %s", events, componentCPU, engineCPU, notes),
	}
}

// postgresCPUSeconds is the CPU time the local PostgreSQL server has
// spent: its processes' user and system time (/proc/<pid>/stat), plus the
// time of the sessions that ended, which the postmaster holds as its
// children's.
func postgresCPUSeconds() float64 {
	procs := processes()
	var total float64
	found := false
	for _, p := range procs {
		if p.comm != "postgres" {
			continue
		}
		found = true
		total += p.cpu
		if parent, ok := procs[p.ppid]; !ok || parent.comm != "postgres" {
			total += p.childrenCPU // the postmaster
		}
	}
	if !found {
		fatalf("read PostgreSQL's CPU time: no postgres process is visible in /proc")
	}
	return total
}

// kafkaCPUSeconds is the CPU time the local Kafka broker (the process
// whose command line runs kafka.Kafka) has spent.
func kafkaCPUSeconds() float64 {
	var total float64
	found := false
	for pid, p := range processes() {
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && p.comm == "java" && bytes.Contains(cmd, []byte("kafka.Kafka")) {
			found = true
			total += p.cpu
		}
	}
	if !found {
		fatalf("read Kafka's CPU time: no kafka.Kafka process is visible in /proc")
	}
	return total
}

// process is what /proc/<pid>/stat says of a process.
type process struct {
	comm        string
	ppid        int
	cpu         float64 // user + system seconds
	childrenCPU float64 // user + system seconds of the children it waited for
}

// processes returns the processes in /proc by pid; those that end while
// it reads are left out.
func processes() map[int]process {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		fatalf("list processes: %v", err)
	}
	out := make(map[int]process, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The command name may hold spaces; the fields after it do not.
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open || end+2 > len(s) {
			continue
		}
		f := strings.Fields(s[end+2:])
		if len(f) < 15 {
			continue
		}
		ticks := func(i int) float64 { v, _ := strconv.ParseFloat(f[i], 64); return v / 100 } // clock ticks of 10 ms
		ppid, _ := strconv.Atoi(f[1])
		out[pid] = process{comm: s[open+1 : end], ppid: ppid, cpu: ticks(11) + ticks(12), childrenCPU: ticks(13) + ticks(14)}
	}
	return out
}
