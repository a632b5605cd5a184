package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sort"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/ingest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/ingest/synthetic"
	"github.com/fluxera/activity/searchapi"
	searchos "github.com/fluxera/activity/searchapi/opensearch"
)

// chainWrites measures POST /api/v1/assets through the API role while the
// relay role publishes the events beside it, once with the hash chain
// (FLUXERA_CHAIN_ENABLED=true, the default) and once without, each pair of
// processes on a schema and topic of its own, in alternating rounds.
func chainWrites(e *env, n int) []Figure {
	client := newWriteClient()
	defer client.CloseIdleConnections()
	word := "Chain" + e.id
	sides := map[bool]*writeSide{}
	dbs := map[bool]*postgres.DB{}
	procs := map[bool]apiRelayPIDs{}
	cpu := map[bool]*apiRelayCPU{true: {}, false: {}}
	for _, chain := range []bool{true, false} {
		suffix := "_nochain"
		if chain {
			suffix = "_chain"
		}
		cfg := e.dbcfg
		cfg.Schema += suffix
		base, token, pids := startAPIWithRelay(e, cfg, "bench.chain."+e.id+suffix, chain)
		procs[chain] = pids
		sides[chain] = &writeSide{url: base + "/api/v1/assets", token: token, tag: suffix + e.id, word: word, client: client}
		db, err := postgres.Open(cfg)
		if err != nil {
			fatalf("%v", err)
		}
		defer db.Close()
		dbs[chain] = db
	}
	for _, chain := range []bool{true, false} {
		sides[chain].run(100, false)
		waitOutboxEmpty(dbs[chain])
	}
	// Six alternating rounds, so that the machine's drift over the run
	// falls on both sides alike.
	rounds := 6
	per := max(1, n/rounds)
	for r := 0; r < rounds; r++ {
		order := []bool{true, false}
		if r%2 == 1 {
			order = []bool{false, true}
		}
		for _, chain := range order {
			before := readAPIRelayCPU(procs[chain])
			sides[chain].run(per, true)
			// The relay finishes before the other side's round, so that
			// its work lands in its own side's figure only.
			waitOutboxEmpty(dbs[chain])
			cpu[chain].add(readAPIRelayCPU(procs[chain]), before)
		}
	}
	with, without := sides[true], sides[false]
	wRate, oRate := float64(len(with.latencies))/with.busy.Seconds(), float64(len(without.latencies))/without.busy.Seconds()
	notes := fmt.Sprintf("%d POST /api/v1/assets per side from %d concurrent clients, in %d alternating rounds after 100 unmeasured warm-up requests per side. "+
		"Each side is bin/fluxera api and bin/fluxera relay on a schema and topic of its own; the figure's relay fixes each event's place in the workspace's hash chain (FLUXERA_CHAIN_ENABLED=true) and signs checkpoints, the baseline's publishes without it (FLUXERA_CHAIN_ENABLED=false). "+
		"The bench waits for each side's outbox to empty before the other side's round. p99: with the chain %.1f ms, without %.1f ms",
		len(with.latencies), writeClients, rounds, ms(percentile(with.latencies, 99)), ms(percentile(without.latencies, 99)))
	events := len(with.latencies)
	c, o := cpu[true], cpu[false]
	cpuNotes := fmt.Sprintf("Over the measured rounds of the chain write figure's side with the chain (%d POST /api/v1/assets, each with its asset.created event), each process's CPU read before its side's round and after its relay emptied the outbox. "+
		"The side without the chain, over its %d writes: API %.1f s, relay %.1f s, PostgreSQL %.1f s, Kafka %.1f s.",
		events, len(without.latencies), o.api, o.relay, o.postgres, o.kafka)
	return []Figure{{
		Name: "api_role.write_per_s_with_chain", Value: round(wRate), Unit: "writes/s",
		Baseline: &Baseline{Name: "api_role.write_per_s_without_chain", Value: round(oRate)}, Ratio: round2(wRate / oRate), Notes: notes,
	},
		cpuFigure("api_role.cpu_s_per_million", "postgresql.cpu_s_per_million", c.api, c.postgres, events,
			"The component is bin/fluxera api serving the writes; the engine is the PostgreSQL server (its processes and ended sessions, /proc) over the same span, which also serves the relay beside it. "+cpuNotes),
		cpuFigure("relay.cpu_s_per_million", "kafka.cpu_s_per_million", c.relay, c.kafka, events,
			"The component is bin/fluxera relay fixing the events' places in the chain and publishing them; the engine is the Kafka broker (/proc) over the same span. "+cpuNotes),
	}
}

// apiRelayPIDs are the processes of one side of the chain write figure.
type apiRelayPIDs struct{ api, relay int }

// apiRelayCPU is CPU time, in seconds, of one side's processes and of the
// engines they use.
type apiRelayCPU struct{ api, relay, postgres, kafka float64 }

func readAPIRelayCPU(p apiRelayPIDs) apiRelayCPU {
	return apiRelayCPU{api: cpuSeconds(p.api), relay: cpuSeconds(p.relay), postgres: postgresCPUSeconds(), kafka: kafkaCPUSeconds()}
}

// add adds what was spent between before and after.
func (c *apiRelayCPU) add(after, before apiRelayCPU) {
	c.api += after.api - before.api
	c.relay += after.relay - before.relay
	c.postgres += after.postgres - before.postgres
	c.kafka += after.kafka - before.kafka
}

// startAPIWithRelay starts bin/fluxera api and bin/fluxera relay on cfg's
// schema, the relay publishing to topic with the chain on or off, creates
// a workspace and returns the API's address, a session token and the two
// processes.
func startAPIWithRelay(e *env, cfg postgres.Config, topic string, chain bool) (string, string, apiRelayPIDs) {
	env := slices.Concat(weakArgon2Env, []string{"FLUXERA_LOG_LEVEL=warn", "FLUXERA_KAFKA_TOPIC=" + topic, fmt.Sprintf("FLUXERA_CHAIN_ENABLED=%t", chain)})
	api, base := startAPI(e, cfg, env...)
	relay := exec.Command(e.bin, "relay")
	relay.Env = append(append(os.Environ(), env...), "FLUXERA_DATABASE_SCHEMA="+cfg.Schema, "FLUXERA_OPS_ADDR="+freeAddr())
	relay.Stderr = os.Stderr
	relay.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := relay.Start(); err != nil {
		fatalf("start %s relay: %v", e.bin, err)
	}
	atExit(func() {
		relay.Process.Signal(syscall.SIGTERM)
		relay.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		deleteTopics(ctx, &kafka.Client{Addr: kafka.TCP(e.brokers...), Timeout: 10 * time.Second}, topic)
	})
	return base, newWorkspaceSession(e, cfg, base, "chain"+cfg.Schema), apiRelayPIDs{api: api.Process.Pid, relay: relay.Process.Pid}
}

// waitOutboxEmpty waits until the relay published every event of db's
// outbox, or a minute has passed.
func waitOutboxEmpty(db *postgres.DB) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var pending int
		if err := db.NewRaw("SELECT count(*) FROM outbox").Scan(context.Background(), &pending); err != nil {
			fatalf("count pending outbox rows: %v", err)
		}
		if pending == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Printf("bench: a relay was still busy after a minute; continuing\n")
}

// verifyFigures measures the verifier (audit.Service, as fluxera verify
// and GET /api/v1/audit/verify run it) over one workspace's chain of n
// entries in OpenSearch, beside reading the same entries in the same order
// through the same reader without checking them.
func verifyFigures(e *env, n, rounds int) []Figure {
	if n <= 0 {
		return nil
	}
	ctx := context.Background()
	prefix := e.prefix + "-verify"
	osCfg := ingestos.Config{URLs: []string{e.osURL}, IndexPrefix: prefix, RefreshInterval: "30s"}
	if err := osCfg.Validate(); err != nil {
		fatalf("%v", err)
	}
	atExit(func() { deleteIndices(e.osURL, prefix) })
	osc, err := ingestos.NewClient(osCfg)
	if err != nil {
		fatalf("%v", err)
	}
	if err := ingestos.EnsureTemplate(ctx, osc, osCfg); err != nil {
		fatalf("install the verify corpus's template: %v", err)
	}
	workspace := activity.NewEventID()
	store, msgs := chainCorpus(workspace, n)
	cfg := ingest.Config{}
	if err := cfg.Validate(); err != nil {
		fatalf("%v", err)
	}
	newBulkLoader(e.osURL, prefix, cfg).load(msgs)
	msgs = nil
	settle(e.osURL)
	mustDo(mustRequest("POST", e.osURL+"/"+activity.IndexPattern(prefix)+"/_refresh", nil))
	expectCount(e.osURL, prefix, n)

	finder := searchos.NewFinder(osc, prefix)
	svc := &audit.Service{Store: store, Index: searchapi.ChainIndex{Reader: finder}}
	var verifyTook, readTook []time.Duration
	for r := 0; r < max(1, rounds); r++ {
		start := time.Now()
		res, err := svc.Verify(ctx, workspace, time.Time{}, time.Time{})
		if err != nil || !res.OK || res.Entries != int64(n) {
			fatalf("verify the corpus: %+v %v", res, err)
		}
		verifyTook = append(verifyTook, time.Since(start))

		start = time.Now()
		entries, read := svc.Index.Entries(workspace, 0, 0), 0
		for {
			if _, err := entries.Next(ctx); err == io.EOF {
				break
			} else if err != nil {
				fatalf("read the corpus: %v", err)
			}
			read++
		}
		if read != n {
			fatalf("read %d entries of %d", read, n)
		}
		readTook = append(readTook, time.Since(start))
	}
	v, d := medianDuration(verifyTook), medianDuration(readTook)
	vRate, dRate := float64(n)/v.Seconds(), float64(n)/d.Seconds()
	return []Figure{{
		Name: "verify.events_per_s", Value: round(vRate), Unit: "events/s",
		Baseline: &Baseline{Name: "verify_read_only.events_per_s", Value: round(dRate)}, Ratio: round2(vRate / dRate),
		Notes: fmt.Sprintf("one workspace's chain of %d synthetic entries with a signed checkpoint every %d, indexed as the indexer stores them; the figure is audit.Service.Verify (every entry's canonical form hashed, linked, its personal values held to their digests, the checkpoints' signatures checked), the baseline reads the same entries in chain order through the same pages of %d without checking them; median of %d rounds each",
			n, postgres.DefaultCheckpointEvery, 1000, max(1, rounds)),
	}}
}

// chainCorpus links n synthetic events into one workspace's chain with
// the production code and returns a store of its keys and checkpoints and
// the events as the relay publishes them.
func chainCorpus(workspace string, n int) (*memChainStore, []domain.OutboxMessage) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		fatalf("%v", err)
	}
	key := make([]byte, audit.DigestKeySize)
	rand.Read(key)
	pk, err := audit.NewPublicKey(pub, time.Now(), nil)
	if err != nil {
		fatalf("%v", err)
	}
	store := &memChainStore{keys: []audit.PublicKey{pk}, digestKey: key}
	gen := synthetic.New(7, 1, 50, time.Now().Add(-time.Duration(n)*time.Second), time.Second)
	msgs := make([]domain.OutboxMessage, n)
	prev := audit.GenesisHash
	for i := range msgs {
		ev := gen.Next()
		ev.WorkspaceID = workspace
		seq := int64(i + 1)
		prev = audit.Link(&ev, seq, prev, key)
		if seq%postgres.DefaultCheckpointEvery == 0 || i == n-1 {
			cp := audit.Checkpoint{WorkspaceID: workspace, Seq: seq, Hash: prev, CreatedAt: time.Now()}
			cp.Sign(priv, pk.ID)
			store.checkpoints = append(store.checkpoints, cp)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			fatalf("encode event: %v", err)
		}
		msgs[i] = domain.OutboxMessage{Seq: seq, EventID: ev.ID, WorkspaceID: workspace, Payload: b}
	}
	return store, msgs
}

// memChainStore holds the bench corpus's keys and checkpoints, which the
// platform keeps in PostgreSQL.
type memChainStore struct {
	keys        []audit.PublicKey
	checkpoints []audit.Checkpoint
	digestKey   []byte
}

func (s *memChainStore) Keys(context.Context) ([]audit.PublicKey, error) { return s.keys, nil }

func (s *memChainStore) DigestKey(context.Context, string) ([]byte, error) { return s.digestKey, nil }

func (s *memChainStore) Checkpoints(_ context.Context, _ string, after int64, limit int) ([]audit.Checkpoint, error) {
	i := sort.Search(len(s.checkpoints), func(i int) bool { return s.checkpoints[i].Seq > after })
	return s.checkpoints[i:min(len(s.checkpoints), i+limit)], nil
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
