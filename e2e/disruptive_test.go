package e2e

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// disruptions are the calls with which a test stops, kills or restarts a
// service: a stack service through the stack script, a platform process
// with SIGKILL, the detector's own redis-server.
var disruptions = []string{"mustStopKafka", "mustStopOpenSearch", "runStack", "SIGKILL", "startOwnRedis"}

// TestDisruptiveTestsAskFirst reads the tests that start whole roles and
// the detector's tests and checks that every test function that stops,
// kills or restarts a service calls stacktest.SkipUnlessDisruptive as its
// first statement, so that a plain go test ./... never stops a service
// other tests are using.
func TestDisruptiveTestsAskFirst(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob(filepath.Join("..", "alert", "detect", "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, more...)
	checked := 0
	for _, name := range files {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil || !strings.HasPrefix(fn.Name.Name, "Test") || !disrupts(fn.Body) {
				continue
			}
			checked++
			if !asksFirst(fn.Body) {
				t.Errorf("%s: %s stops, kills or restarts a service but does not call stacktest.SkipUnlessDisruptive first", name, fn.Name.Name)
			}
		}
	}
	if checked < 4 {
		t.Errorf("found %d disruptive tests, want at least the Kafka, OpenSearch, indexer and Redis outages", checked)
	}
}

// disrupts reports whether body names one of the disruptions.
func disrupts(body *ast.BlockStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			for _, d := range disruptions {
				found = found || id.Name == d
			}
		}
		return !found
	})
	return found
}

// asksFirst reports whether body starts with
// stacktest.SkipUnlessDisruptive(…).
func asksFirst(body *ast.BlockStmt) bool {
	if len(body.List) == 0 {
		return false
	}
	stmt, ok := body.List[0].(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := stmt.X.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "stacktest" && sel.Sel.Name == "SkipUnlessDisruptive"
}
