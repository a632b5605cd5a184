// Package cputime reads how much CPU time this process and the services
// the platform feeds have used, for the benchmarks and the opt-in
// profiling tests that put a component's CPU beside its engine's.
package cputime

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Self is this process's user and system CPU time in seconds.
func Self() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// OpenSearch is the process CPU time in seconds of every OpenSearch node
// at url, from its node stats.
func OpenSearch(url string) (float64, error) {
	res, err := http.Get(url + "/_nodes/stats/process?filter_path=nodes.*.process.cpu.total_in_millis")
	if err != nil {
		return 0, fmt.Errorf("read OpenSearch's CPU time: %w", err)
	}
	defer res.Body.Close()
	var stats struct {
		Nodes map[string]struct {
			Process struct {
				CPU struct {
					TotalMillis int64 `json:"total_in_millis"`
				} `json:"cpu"`
			} `json:"process"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(res.Body).Decode(&stats); err != nil {
		return 0, fmt.Errorf("read OpenSearch's CPU time: %w", err)
	}
	var total int64
	for _, n := range stats.Nodes {
		total += n.Process.CPU.TotalMillis
	}
	return float64(total) / 1000, nil
}

// Redis is the Redis server's user and system CPU time in seconds (INFO
// cpu: used_cpu_sys + used_cpu_user).
func Redis(ctx context.Context, client *redis.Client) (float64, error) {
	info, err := client.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, fmt.Errorf("read Redis's CPU time: %w", err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("read Redis's CPU time: %s: %w", line, err)
			}
			total += f
		}
	}
	return total, nil
}
