package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
)

// ingestProcess is bin/fluxera ingest, the indexer role alone, running in
// a process of its own on the bench's topic, consumer group and index
// prefix, with its metrics on an ops address of its own.
type ingestProcess struct {
	cmd          *exec.Cmd
	ops          string
	topic, group string
	partitions   int
	kafka        *kafka.Client
	started      time.Time
	exited       chan struct{}
	err          error
}

// startIngest starts the indexer with env added to the bench's own
// environment, so that it gets the same FLUXERA_INGEST_* and
// FLUXERA_INDEX_* settings the baseline reads.
func startIngest(e *env, topic, group string, partitions int, env ...string) *ingestProcess {
	return startRole(e, "ingest", topic, group, partitions, env...)
}

// roleGroups names the consumer group variable of each consuming role.
var roleGroups = map[string]string{"ingest": "FLUXERA_INGEST_GROUP", "detect": "FLUXERA_DETECT_GROUP"}

// startRole starts bin/fluxera <role>, ingest or detect, reading topic in
// group, with env added to the bench's own environment and its metrics on
// an ops address of its own.
func startRole(e *env, role, topic, group string, partitions int, env ...string) *ingestProcess {
	p := &ingestProcess{ops: freeAddr(), topic: topic, group: group, partitions: partitions,
		kafka: &kafka.Client{Addr: kafka.TCP(e.brokers...), Timeout: 10 * time.Second}, exited: make(chan struct{})}
	p.cmd = exec.Command(e.bin, role)
	p.cmd.Env = append(append(os.Environ(), env...),
		"FLUXERA_KAFKA_TOPIC="+topic, roleGroups[role]+"="+group, "FLUXERA_OPS_ADDR="+p.ops, "FLUXERA_LOG_LEVEL=warn")
	p.cmd.Stderr = os.Stderr
	// The process must not outlive a bench that is killed outright.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		fatalf("start %s %s: %v", e.bin, role, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p
}

// stop ends the indexer (SIGTERM, then SIGKILL after 30 s) and waits for it.
func (p *ingestProcess) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// alive fails the bench if the indexer has exited.
func (p *ingestProcess) alive() {
	select {
	case <-p.exited:
		fatalf("bin/fluxera ingest exited early: %v", p.err)
	default:
	}
}

// committed is the number of messages of the topic the group has
// committed: the sum of its committed offsets (the topic is fresh, so its
// offsets start at 0). It is -1 when the brokers cannot say right now.
func (p *ingestProcess) committed(ctx context.Context) int64 {
	parts := make([]int, p.partitions)
	for i := range parts {
		parts[i] = i
	}
	res, err := p.kafka.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: p.group, Topics: map[string][]int{p.topic: parts}})
	if err != nil || res.Error != nil {
		return -1
	}
	var total int64
	for _, part := range res.Topics[p.topic] {
		if part.Error != nil {
			return -1
		}
		total += max(0, part.CommittedOffset)
	}
	return total
}

// waitCommitted polls the group's committed offsets every interval until
// want messages are committed, and returns when that was seen, and when
// the first commit was seen with how much it covered.
func (p *ingestProcess) waitCommitted(ctx context.Context, want int64, every, limit time.Duration) (done, first time.Time, firstCount int64) {
	deadline := time.Now().Add(limit)
	last := int64(0)
	for {
		p.alive()
		c := p.committed(ctx)
		now := time.Now()
		if c > last {
			last = c
		}
		if c > 0 && first.IsZero() {
			first, firstCount = now, c
		}
		if c >= want {
			return now, first, firstCount
		}
		if now.After(deadline) {
			fatalf("the indexer committed %d of %d messages in %s", last, want, limit)
		}
		time.Sleep(every)
	}
}

// metrics reads the indexer's unlabelled Prometheus samples.
func (p *ingestProcess) metrics() map[string]float64 {
	out := map[string]float64{}
	res, err := http.Get("http://" + p.ops + "/metrics")
	if err != nil {
		return out
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.Contains(line, "{") {
			continue
		}
		if name, value, ok := strings.Cut(line, " "); ok {
			if v, err := strconv.ParseFloat(value, 64); err == nil {
				out[name] = v
			}
		}
	}
	return out
}

// statusKB reads a "VmXxx:  123 kB" line of the process's status.
func statusKB(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		fatalf("read the status of process %d: %v", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				fatalf("read %s of process %d: %v", field, pid, err)
			}
			return kb
		}
	}
	fatalf("process %d has no %s", pid, field)
	return 0
}

// cpuSeconds is the user and system CPU time a process has used.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		fatalf("read the CPU time of process %d: %v", pid, err)
	}
	// The command name may hold spaces; the fields after it do not.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // clock ticks of 10 ms
}

// machineCPU is CPU time of the whole machine, in seconds summed over its
// cores: busy (everything but idle, I/O wait and steal), idle (I/O wait
// included) and stolen by the hypervisor.
type machineCPU struct{ busy, idle, stolen float64 }

// readMachineCPU reads the machine's CPU time so far from /proc/stat.
func readMachineCPU() machineCPU {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		fatalf("read the machine's CPU time: %v", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal guest guest_nice
	if len(fields) < 9 || fields[0] != "cpu" {
		fatalf("read the machine's CPU time: unexpected /proc/stat line %q", line)
	}
	var ticks [8]float64
	for i := range ticks {
		ticks[i], _ = strconv.ParseFloat(fields[1+i], 64)
	}
	m := machineCPU{idle: ticks[3] + ticks[4], stolen: ticks[7]}
	for _, t := range ticks {
		m.busy += t
	}
	m.busy -= m.idle + m.stolen
	m.busy, m.idle, m.stolen = m.busy/100, m.idle/100, m.stolen/100 // clock ticks of 10 ms
	return m
}

// since is the machine's CPU time from then to m.
func (m machineCPU) since(then machineCPU) machineCPU {
	return machineCPU{busy: m.busy - then.busy, idle: m.idle - then.idle, stolen: m.stolen - then.stolen}
}
