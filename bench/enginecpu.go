package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisCPUSeconds is the CPU time the Redis server the platform uses has
// spent (INFO cpu: used_cpu_sys + used_cpu_user).
func redisCPUSeconds() float64 {
	addr := os.Getenv("FLUXERA_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:16379"
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "cpu").Result()
	if err != nil {
		fatalf("read Redis's CPU time: %v", err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				fatalf("read Redis's CPU time: %s: %v", line, err)
			}
			total += f
		}
	}
	return total
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
