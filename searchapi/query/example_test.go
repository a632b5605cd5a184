package query_test

import (
	"fmt"
	"strings"

	"github.com/fluxera/activity/searchapi/query"
)

func ExampleParse() {
	for _, s := range []string{
		`actor:admin@example.com action:license.* ip:10.0.0.0/8 -outcome:success "MacBook Pro"`,
		`field:status lost -actor:"Jane Roe"`,
		`outcome:failure OR action:*.deleted country:DE`,
		`ip:10.0.0.0/33`,
	} {
		q, err := query.Parse(s)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		var all []string
		for _, c := range q {
			clause := query.Query{c}.String()
			if len(c) > 1 {
				clause = "(" + clause + ")"
			}
			all = append(all, clause)
		}
		fmt.Println(strings.Join(all, " AND "))
	}
	// Output:
	// actor:admin@example.com AND action:license.* AND ip:10.0.0.0/8 AND -outcome:success AND "MacBook Pro"
	// field:status AND lost AND -actor:"Jane Roe"
	// (outcome:failure OR action:*.deleted) AND country:DE
	// error: ip: "10.0.0.0/33" is not an address or CIDR range
}
