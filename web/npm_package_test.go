package web_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// npmTool finds a tool of node's or skips (fails under COLLAB_E2E_REQUIRED=1,
// as in CI, which installs node for the browser code).
func npmTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " not found: install node and npm to test the npm package"
	if os.Getenv("COLLAB_E2E_REQUIRED") == "1" {
		t.Fatal(msg + " (COLLAB_E2E_REQUIRED=1)")
	}
	t.Skip(msg)
	return ""
}

// command runs name with args in dir and returns its standard output.
func command(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// consumer is a module of a project that installed the package: it
// imports every export that runs outside a browser and checks what it
// gets; the widget (a custom element) only has to resolve.
const consumer = `
import { DocClient } from 'collab-web';
import { SyncCore } from 'collab-web/sync';
import { EditorBinding } from 'collab-web/editor';
import { TextareaBinding } from 'collab-web/textarea';
import { collab } from 'collab-web/codemirror';
import { MonacoBinding } from 'collab-web/monaco';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
for (const f of [DocClient, SyncCore, EditorBinding, TextareaBinding, collab, MonacoBinding]) {
  if (typeof f !== 'function') throw new Error('not a function: ' + f);
}
if (!existsSync(fileURLToPath(import.meta.resolve('collab-web/widget')))) throw new Error('no widget');
console.log('imported');
`

// typed is a TypeScript module of the consumer: the types of every
// export resolve through the package's exports.
const typed = `
import { DocClient } from 'collab-web';
import { SyncCore } from 'collab-web/sync';
import { EditorBinding } from 'collab-web/editor';
import { TextareaBinding } from 'collab-web/textarea';
import { collab } from 'collab-web/codemirror';
import { MonacoBinding } from 'collab-web/monaco';
import { CollabEditor } from 'collab-web/widget';
const client: DocClient = new DocClient({ server: 'http://localhost:8080', doc: 'notes' });
const text: string = client.text;
export const uses = [SyncCore, EditorBinding, TextareaBinding, collab, MonacoBinding, CollabEditor, text];
`

// TestNPMPackageInstalls packs the repository as npm does for a git URL
// or a path (the root package.json, pointing into web/), installs the
// tarball offline into a new project, imports its exports in node and
// type-checks a TypeScript module using them.
func TestNPMPackageInstalls(t *testing.T) {
	npm := npmTool(t, "npm")
	node := npmTool(t, "node")
	tmp := t.TempDir()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var packed []struct {
		Filename string
		Files    []struct{ Path string }
	}
	out := command(t, root, npm, "pack", "--json", "--pack-destination", tmp, "--cache", filepath.Join(tmp, "cache"))
	if err := json.Unmarshal([]byte(out), &packed); err != nil || len(packed) != 1 {
		t.Fatalf("npm pack --json: %v: %s", err, out)
	}
	for _, f := range packed[0].Files {
		if f.Path != "package.json" && f.Path != "README.md" && !strings.HasPrefix(f.Path, "web/static/") && !strings.HasPrefix(f.Path, "web/types/") {
			t.Errorf("the package holds %s: only web/static, web/types, package.json and README.md belong in it", f.Path)
		}
	}

	app := filepath.Join(tmp, "app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"package.json":  `{"name": "app", "private": true, "type": "module"}`,
		"main.js":       consumer,
		"typed.ts":      typed,
		"tsconfig.json": `{"compilerOptions": {"module": "es2022", "moduleResolution": "bundler", "target": "es2022", "lib": ["es2024", "dom"], "strict": true, "noEmit": true, "skipLibCheck": true}, "files": ["typed.ts"]}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(app, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	command(t, app, npm, "install", "--offline", "--no-audit", "--no-fund", "--cache", filepath.Join(tmp, "cache"), filepath.Join(tmp, packed[0].Filename))
	if got := command(t, app, node, "main.js"); strings.TrimSpace(got) != "imported" {
		t.Errorf("node main.js printed %q", got)
	}
	tsc, err := filepath.Abs(filepath.Join("node_modules", "typescript", "bin", "tsc"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tsc); err != nil {
		if os.Getenv("COLLAB_E2E_REQUIRED") == "1" {
			t.Fatalf("typescript is not installed (npm ci --prefix web): %v", err)
		}
		t.Logf("skipping the type check: typescript is not installed (npm ci --prefix web)")
		return
	}
	command(t, app, node, tsc, "-p", ".")
}
