package main

// drvsim serve without a browser: its API and event stream through
// httptest, the command through serveMain and as a process.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/trace"
)

// call makes a request to the test server and decodes the JSON answer
// into out (when not nil); it returns the status.
func call(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil {
		require.NoError(t, json.Unmarshal(data, out), "%s %s: %s", method, url, data)
	}
	return resp.StatusCode
}

// command runs a shell command through POST /api/cmd.
func command(t *testing.T, url, line string) (int, cmdResult) {
	t.Helper()
	var res cmdResult
	body, err := json.Marshal(map[string]string{"line": line})
	require.NoError(t, err)
	status := call(t, "POST", url+"/api/cmd", string(body), &res)
	return status, res
}

func getState(t *testing.T, url string) machineState {
	t.Helper()
	var st machineState
	require.Equal(t, 200, call(t, "GET", url+"/api/state", "", &st))
	return st
}

func stateDevices(st machineState) []string {
	var out []string
	for _, d := range st.Tree.Devices {
		out = append(out, d.Name)
	}
	return out
}

// The controls: plug a device, open its file, unplug it: the tree loses
// it and the file's read answers -ENODEV, in the trace too.
func TestServeUnplug(t *testing.T) {
	url, s := testServer(t, bootUSB...)
	st := getState(t, url)
	assert.Equal(t, []string{"usb1", "usb1:1.0"}, stateDevices(st))
	assert.Equal(t, []portView{{Port: "1-1"}, {Port: "1-2"}, {Port: "1-3"}, {Port: "1-4"}}, st.Ports)

	status, res := command(t, url, "plug fff0:fff0 1-1")
	require.Equal(t, 200, status, res.Error)
	assert.True(t, res.OK)
	assert.Contains(t, res.Output, "+ 1-1:1.0 bus=usb driver=skel-revocable")
	status, res = command(t, url, "open /dev/skel0")
	require.Equal(t, 200, status, res.Error)
	st = getState(t, url)
	assert.Contains(t, stateDevices(st), "1-1:1.0")
	assert.Equal(t, []fileView{{FD: 3, Path: "/dev/skel0"}}, st.Files)
	assert.Equal(t, portView{Port: "1-1", Device: "1-1", ID: "fff0:fff0"}, st.Ports[0])

	status, res = command(t, url, "unplug 1-1")
	require.Equal(t, 200, status, res.Error)
	st = getState(t, url)
	assert.NotContains(t, stateDevices(st), "1-1")
	assert.NotContains(t, stateDevices(st), "1-1:1.0")
	assert.Equal(t, []fileView{{FD: 3, Path: "/dev/skel0", Stale: true}}, st.Files)

	// The read ran in the kernel and failed: 200, not a refusal.
	status, res = command(t, url, "read 3")
	assert.Equal(t, 200, status)
	assert.False(t, res.OK)
	assert.Equal(t, "-ENODEV", res.Errno)
	var page eventsPage
	require.Equal(t, 200, call(t, "GET", fmt.Sprintf("%s/api/events?since=%d", url, res.Seq-1), "", &page))
	require.Len(t, page.Events, 1)
	assert.Equal(t, trace.Event{Seq: res.Seq, Task: "process", Kind: "chardev", Dev: "/dev/skel0", Func: "vfs_read", Msg: "-ENODEV"}, page.Events[0])
	assert.Equal(t, s.m.log.Seq(), page.Last)
}

// Every bad request is answered 4xx with a message, and changes nothing:
// not the trace, not the state.
func TestServeRefusesBadRequests(t *testing.T) {
	url, s := testServer(t, skelMachine...)
	status, _ := command(t, url, "read 3")
	require.Equal(t, 409, status, "a read with nothing to read would sleep")
	travel := postTravel(t, url, `{"scenario":"merged-copied-provider","mode":"explore"}`)
	require.True(t, travel.Found)
	big := `{"line":"` + strings.Repeat("x", maxBody) + `"}`
	for _, c := range []struct {
		name, method, path, ctype, body string
		status                          int
		msg                             string
	}{
		{"not JSON", "POST", "/api/cmd", "text/plain", `{"cmd":"devices"}`, 415, "must be JSON"},
		{"bad JSON", "POST", "/api/cmd", "application/json", `{"cmd":`, 400, "bad JSON"},
		{"unknown field", "POST", "/api/cmd", "application/json", `{"cmd":"devices","force":true}`, 400, "unknown field"},
		{"two values", "POST", "/api/cmd", "application/json", `{"cmd":"devices"} {}`, 400, "more than one"},
		{"too big", "POST", "/api/cmd", "application/json", big, 413, "larger than"},
		{"no command", "POST", "/api/cmd", "application/json", `{}`, 400, "no cmd"},
		{"cmd and line", "POST", "/api/cmd", "application/json", `{"cmd":"devices","line":"devices"}`, 400, "not both"},
		{"empty line", "POST", "/api/cmd", "application/json", `{"line":"  "}`, 400, "empty line"},
		{"bad quoting", "POST", "/api/cmd", "application/json", `{"line":"write 3 \"abc"}`, 400, "unterminated"},
		{"unknown command", "POST", "/api/cmd", "application/json", `{"cmd":"reboot"}`, 400, "unknown command"},
		{"quit", "POST", "/api/cmd", "application/json", `{"cmd":"quit"}`, 400, "unknown command"},
		{"wait not on read", "POST", "/api/cmd", "application/json", `{"cmd":"unplug","args":["1-1"],"wait":true}`, 400, "wait is for read"},
		{"too many args", "POST", "/api/cmd", "application/json", `{"cmd":"write","args":[` + strings.Repeat(`"a",`, maxArgs) + `"a"]}`, 400, "arguments"},
		{"long arg", "POST", "/api/cmd", "application/json", `{"cmd":"write","args":["3","` + strings.Repeat("a", maxArg+1) + `"]}`, 400, "longer than"},
		{"usage", "POST", "/api/cmd", "application/json", `{"cmd":"unplug"}`, 400, "usage: unplug PORT"},
		{"bad id", "POST", "/api/cmd", "application/json", `{"line":"plug zz:1 1-2"}`, 400, "bad id"},
		{"bad port", "POST", "/api/cmd", "application/json", `{"line":"plug fff0:fff0 1-x"}`, 400, "bad port"},
		{"no bus", "POST", "/api/cmd", "application/json", `{"line":"plug fff0:fff0 9-1"}`, 404, "no USB bus 9"},
		{"port in use", "POST", "/api/cmd", "application/json", `{"line":"plug fff0:fff0 1-1"}`, 409, "in use"},
		{"nothing plugged", "POST", "/api/cmd", "application/json", `{"line":"unplug 1-3"}`, 404, "nothing plugged in at 1-3"},
		{"no device", "POST", "/api/cmd", "application/json", `{"line":"bind skel-revocable 1-9:1.0"}`, 404, "no device"},
		{"not bound to it", "POST", "/api/cmd", "application/json", `{"line":"unbind hub 1-1:1.0"}`, 404, "is not bound to hub"},
		{"no such driver", "POST", "/api/cmd", "application/json", `{"line":"driver load nope"}`, 404, "no driver"},
		{"loaded already", "POST", "/api/cmd", "application/json", `{"line":"driver load skel-revocable"}`, 409, "already loaded"},
		{"bad fd", "POST", "/api/cmd", "application/json", `{"line":"read x"}`, 400, "bad file descriptor"},
		{"closed fd", "POST", "/api/cmd", "application/json", `{"line":"close 9"}`, 404, "bad file descriptor"},
		{"would sleep", "POST", "/api/cmd", "application/json", `{"line":"read 3"}`, 409, "would sleep"},
		{"cross-origin", "POST", "/api/cmd", "application/json", `{"line":"devices"}`, 403, "cross-origin"},
		{"events since", "GET", "/api/events?since=x", "", "", 400, "since"},
		{"events limit 0", "GET", "/api/events?limit=0", "", "", 400, "limit"},
		{"events limit", "GET", "/api/events?limit=100000", "", "", 400, "limit"},
		{"stream since", "GET", "/api/stream?since=-1", "", "", 400, "since"},
		{"no scenario", "POST", "/api/travel", "application/json", `{"scenario":"nope","mode":"explore"}`, 404, "no scenario"},
		{"bad mode", "POST", "/api/travel", "application/json", `{"scenario":"usb-skel-broken","mode":"fast"}`, 400, "want explore or seed"},
		{"bad seed", "POST", "/api/travel", "application/json", `{"scenario":"usb-skel-broken","mode":"seed","seed":-1}`, 400, "bad JSON"},
		{"no run", "GET", "/api/travel/r99/step/0", "", "", 404, "no run"},
		{"step too far", "GET", "/api/travel/" + travel.ID + fmt.Sprintf("/step/%d", len(travel.Steps)+1), "", "", 400, "want 0 to"},
		{"step not a number", "GET", "/api/travel/" + travel.ID + "/step/one", "", "", 400, "want 0 to"},
		{"no demo", "POST", "/api/demo", "application/json", `{"name":"nope"}`, 404, "no demo"},
		{"no API", "GET", "/api/nope", "", "", 404, "no such API"},
		{"wrong method", "PUT", "/api/state", "application/json", `{}`, 405, "use GET"},
		{"wrong method on a path with values", "DELETE", "/api/travel/r1/step/0", "", "", 405, "use GET"},
		{"no page", "GET", "/static/nope.js", "", "", 404, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			seq, before := s.m.log.Seq(), getState(t, url)
			req, err := http.NewRequest(c.method, url+c.path, strings.NewReader(c.body))
			require.NoError(t, err)
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			if c.name == "cross-origin" {
				req.Header.Set("Origin", "http://example.com")
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			assert.Equal(t, c.status, resp.StatusCode, "%s", data)
			if c.msg != "" {
				var e struct{ Error string }
				require.NoError(t, json.Unmarshal(data, &e), "%s", data)
				assert.Contains(t, e.Error, c.msg)
			}
			assert.Equal(t, seq, s.m.log.Seq(), "a refused request recorded events")
			after := getState(t, url)
			before.Version, after.Version = 0, 0
			assert.Equal(t, before, after, "a refused request changed the machine")
		})
	}
}

// postTravel posts body to /api/travel and decodes the answer.
func postTravel(t *testing.T, url, body string) travelView {
	t.Helper()
	var v travelView
	require.Equal(t, 200, call(t, "POST", url+"/api/travel", body, &v))
	return v
}

// sseClient reads a server-sent event stream.
type sseClient struct {
	resp *http.Response
	sc   *bufio.Scanner
}

func openStream(t *testing.T, ctx context.Context, url string) *sseClient {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/api/stream", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	return &sseClient{resp: resp, sc: sc}
}

// next returns the next message's event type and data.
func (c *sseClient) next() (string, []byte, error) {
	var event string
	var data []byte
	for c.sc.Scan() {
		l := c.sc.Text()
		switch {
		case l == "" && event != "":
			return event, data, nil
		case strings.HasPrefix(l, "event: "):
			event = l[len("event: "):]
		case strings.HasPrefix(l, "data: "):
			data = []byte(l[len("data: "):])
		}
	}
	if err := c.sc.Err(); err != nil {
		return "", nil, err
	}
	return "", nil, io.EOF
}

// until reads messages until done returns true for a state; it fails
// the test at the end of the stream.
func (c *sseClient) until(t *testing.T, done func(machineState, []trace.Event) bool) {
	t.Helper()
	var events []trace.Event
	var st machineState
	for {
		ev, data, err := c.next()
		require.NoError(t, err)
		switch ev {
		case "state":
			require.NoError(t, json.Unmarshal(data, &st))
		case "events":
			var p struct{ Events [][]any }
			require.NoError(t, json.Unmarshal(data, &p))
			for _, e := range p.Events {
				events = append(events, trace.Event{Seq: uint64(e[0].(float64)), Task: e[1].(string), Kind: trace.Kind(e[2].(string)), Dev: e[3].(string), Func: e[4].(string), Msg: e[5].(string)})
			}
		}
		if st.Seq > 0 && done(st, events) {
			return
		}
	}
}

// Many clients follow the machine at once, while commands come from
// several of them: every stream sees every event once, in order, and the
// final state.
func TestServeStreamsToManyClients(t *testing.T) {
	url, s := testServer(t, bootUSB...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const clients = 12
	streams := make([]*sseClient, clients)
	for i := range streams {
		streams[i] = openStream(t, ctx, url)
	}
	var wg sync.WaitGroup
	for _, port := range []string{"1-1", "1-2", "1-3", "1-4"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if st, res := command(t, url, "plug fff0:fff0 "+port); st != 200 || !res.OK {
					t.Errorf("plug %s: %d %+v", port, st, res)
				}
				if st, res := command(t, url, "unplug "+port); st != 200 || !res.OK {
					t.Errorf("unplug %s: %d %+v", port, st, res)
				}
			}
		}()
	}
	wg.Wait()
	status, res := command(t, url, "plug fff0:fff0 1-3")
	require.Equal(t, 200, status, res.Error)
	last := s.m.log.Seq()
	var check sync.WaitGroup
	for _, c := range streams {
		check.Add(1)
		go func() {
			defer check.Done()
			c.until(t, func(st machineState, evs []trace.Event) bool {
				if st.Seq != last || len(evs) == 0 || evs[len(evs)-1].Seq != last {
					return false
				}
				for i, e := range evs {
					if e.Seq != uint64(i+1) {
						t.Errorf("event %d has seq %d", i+1, e.Seq)
						return true
					}
				}
				assert.Contains(t, stateDevices(st), "1-3:1.0")
				assert.NotContains(t, stateDevices(st), "1-1")
				return true
			})
		}()
	}
	check.Wait()
	cancel()
	for _, c := range streams {
		c.resp.Body.Close()
	}
}

// A read that sleeps in the driver: the page's call returns at once
// (202); the read ends when the device sends data or goes, and a close
// of its file is refused meanwhile.
func TestServeSleepingRead(t *testing.T) {
	url, s := testServer(t, skelMachine...)
	status, res := command(t, url, "read 3 5")
	require.Equal(t, 409, status, "without wait, a read with nothing to read is refused")

	var r cmdResult
	require.Equal(t, 202, call(t, "POST", url+"/api/cmd", `{"cmd":"read","args":["3","5"],"wait":true}`, &r))
	assert.True(t, r.OK)
	st := getState(t, url)
	require.Len(t, st.Reads, 1)
	assert.False(t, st.Reads[0].Done)
	assert.Equal(t, 1, st.Files[0].Reading)
	status, res = command(t, url, "close 3")
	assert.Equal(t, 409, status)
	assert.Contains(t, res.Error, "read sleeping")

	status, res = command(t, url, "feed 1-1 hello")
	require.Equal(t, 200, status, res.Error)
	waitRead := func(id int) readView {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			for _, rv := range getState(t, url).Reads {
				if rv.ID == id && rv.Done {
					return rv
				}
			}
		}
		t.Fatalf("read %d never returned", id)
		return readView{}
	}
	assert.Equal(t, `read 5 bytes: "hello"`, waitRead(r.Read).Result)

	// Sleeping again; the cable is pulled: the revoke waits for the
	// reader's section, the read returns -ENODEV, the grace period ends.
	require.Equal(t, 202, call(t, "POST", url+"/api/cmd", `{"cmd":"read","args":["3"],"wait":true}`, &r))
	mark := s.m.log.Seq()
	status, res = command(t, url, "unplug 1-1")
	require.Equal(t, 200, status, res.Error)
	assert.Equal(t, "-ENODEV", waitRead(r.Read).Result)
	// The revoke waits for the reader to leave its section (it releases
	// its io_mutex inside it) before the grace period ends; whether the
	// reader was still inside at its start depends on the goroutines.
	seq := map[string]uint64{}
	for _, e := range s.m.log.Since(mark) {
		key := e.Task + ": " + e.Func + " " + e.Msg
		if seq[key] == 0 {
			seq[key] = e.Seq
		}
	}
	start, done := seq["hub_wq: synchronize_srcu grace period 1 start"], seq["hub_wq: synchronize_srcu grace period 1 done"]
	unlock, read := seq["reader fd 3: mutex_unlock io_mutex"], seq["reader fd 3: vfs_read -ENODEV"]
	assert.Positive(t, start)
	assert.Positive(t, read)
	assert.Positive(t, unlock)
	assert.Less(t, start, done)
	assert.Less(t, unlock, done)
	status, res = command(t, url, "close 3")
	assert.Equal(t, 200, status, res.Error)
}

// The tree the page draws of the live machine is the one its trace
// tells (the rebuild time travel uses), after plugs behind a hub, a DRM
// device, binds, unbinds and open files.
func TestServeLiveTreeIsTheTraceTree(t *testing.T) {
	url, s := testServer(t, bootUSB...)
	for _, line := range []string{
		"hub add 1-2", "plug fff0:fff0 1-2.3", "plug fff0:fff0 1-1", "driver load udl", "plug 17e9:0001 1-4",
		"open /dev/skel0", "open /dev/skel1", "open /dev/dri/card0", "unbind skel-revocable 1-1:1.0",
		"driver load skel-classic", "unbind skel-classic 1-1:1.0", "bind skel-revocable 1-1:1.0", "close 4", "unplug 1-2",
	} {
		status, res := command(t, url, line)
		require.Equal(t, 200, status, "%s: %s", line, res.Error)
		require.True(t, res.OK, "%s: %s", line, res.Error)
	}
	live := getState(t, url).Tree
	tree := newTraceTree()
	for _, e := range s.m.log.Events() {
		tree.add(e)
	}
	got := tree.view()
	for i := range live.Devices {
		live.Devices[i].USB = ""
	}
	assert.Equal(t, live, got)
	assert.True(t, slices.ContainsFunc(got.Devices, func(d treeDevice) bool { return d.Node == "/dev/dri/card0" && d.Files == 1 }), "%+v", got.Devices)
}

// The runtime PM the page shows of the live machine is the one its trace
// tells, after every command of the pm lesson: a USB device that
// autosuspends once allowed and the clock has moved, resumed by a
// runtime get and suspended again after its put, a usb-skeleton's
// interface keeping its device active, and the whole machine's sleep
// (runtime PM disabled for every device) and resume.
func TestServeLiveTreeIsTheTraceTreeWithRuntimePM(t *testing.T) {
	url, s := testServer(t)
	lines, err := scriptLines(filepath.Join("testdata", "pm-lesson.drvsh"))
	require.NoError(t, err)
	rpmOf := func(tree treeView, name string) string {
		for _, d := range tree.Devices {
			if d.Name == name {
				return d.RPM
			}
		}
		return "(no " + name + ")"
	}
	var seen []string // the runtime PM of 1-1 after each command, when it changed
	commands := 0
	for _, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fails := strings.HasPrefix(line, "!")
		line = strings.TrimSpace(strings.TrimPrefix(line, "!"))
		status, res := command(t, url, line)
		require.Equal(t, 200, status, "%s: %s", line, res.Error)
		require.Equal(t, !fails, res.OK, "%s: %s", line, res.Error)
		commands++

		live := getState(t, url).Tree
		tree := newTraceTree()
		for _, e := range s.m.log.Events() {
			tree.add(e)
		}
		for i := range live.Devices {
			live.Devices[i].USB = ""
		}
		require.Equal(t, live, tree.view(), "after %q", line)
		if r := rpmOf(live, "1-1"); len(seen) == 0 || seen[len(seen)-1] != r {
			seen = append(seen, r)
		}
	}
	assert.Greater(t, commands, 20)
	// plug (forbidden: active), runtime auto and 2 s (suspended),
	// runtime get (active), put and 2 s (suspended), suspend (runtime PM
	// disabled), resume (enabled again; usb_resume wakes the device:
	// active).
	assert.Equal(t, []string{"(no 1-1)", "active", "suspended", "active", "suspended", "unsupported", "active"}, seen)
}

// Time travel through the API: the broken skeleton's failing schedule,
// a step's view, one random schedule of a safe scenario, and a scenario
// whose exploration finds nothing.
func TestServeTravel(t *testing.T) {
	url, _ := testServer(t, bootUSB...)
	v := postTravel(t, url, `{"scenario":"usb-skel-broken","mode":"explore"}`)
	require.True(t, v.Found)
	require.NotNil(t, v.Failure)
	assert.Equal(t, "use-after-free", v.Failure.Kind)
	assert.Equal(t, len(v.Steps), v.Failure.Step)
	assert.Contains(t, v.Verdict, "as predicted: the skel-broken driver has a use-after-free")
	assert.True(t, strings.HasPrefix(v.Replay, "drvsim explore -schedule '"))
	assert.Equal(t, v.Steps[len(v.Steps)-1].To, uint64(len(v.Events)))
	var sv stepView
	require.Equal(t, 200, call(t, "GET", fmt.Sprintf("%s/api/travel/%s/step/%d", url, v.ID, v.Failure.Step), "", &sv))
	assert.True(t, sv.Failed)
	var again travelView
	require.Equal(t, 200, call(t, "GET", url+"/api/travel/"+v.ID, "", &again))
	assert.Equal(t, v.Replay, again.Replay)

	seed := postTravel(t, url, `{"scenario":"usb-skel-revocable","mode":"seed","seed":7}`)
	require.True(t, seed.Found)
	assert.Nil(t, seed.Failure)
	assert.Equal(t, "this schedule passes", seed.Verdict)
	assert.Equal(t, "drvsim explore -mode random -seed 7 -schedules 1 usb-skel-revocable", seed.Replay)

	none := postTravel(t, url, `{"scenario":"drvsim-copied-provider","mode":"explore"}`)
	assert.False(t, none.Found)
	assert.Contains(t, none.Verdict, "as predicted: no schedule fails")
}

// The runs kept for time travel are bounded: the oldest goes.
func TestTravelStoreKeepsTheLast(t *testing.T) {
	st := travelStore{limit: 2}
	a, b, c := st.add(&travel{}), st.add(&travel{}), st.add(&travel{})
	assert.Nil(t, st.get(a))
	assert.NotNil(t, st.get(b))
	assert.NotNil(t, st.get(c))
}

// A demo, recorded for the page: its phases with their events.
func TestServeDemo(t *testing.T) {
	url, _ := testServer(t, bootUSB...)
	var d struct {
		Title  string
		Intro  []string
		Phases []struct {
			Heading string
			Events  [][]any
			Notes   []string
		}
	}
	require.Equal(t, 200, call(t, "POST", url+"/api/demo", `{"name":"usb-unplug"}`, &d))
	assert.Equal(t, "drvsim demo usb-unplug", d.Title)
	assert.Equal(t, usbLegend, d.Intro)
	require.Len(t, d.Phases, 11)
	_, out, _ := runCLI("demo", "usb-unplug")
	for i, p := range d.Phases {
		assert.Contains(t, out, fmt.Sprintf("== %d. %s\n", i+1, strings.TrimPrefix(p.Heading, fmt.Sprintf("%d. ", i+1))), "the CLI tells phase %d", i+1)
	}
	assert.NotEmpty(t, d.Phases[0].Events)
	assert.Contains(t, strings.Join(d.Phases[10].Notes, "\n"), "drvsim explore -mode random -seed 1 -schedules 1 usb-skel-broken")
}

// The page and its scripts are served, the scripts as JavaScript.
func TestServePage(t *testing.T) {
	url, _ := testServer(t, bootUSB...)
	for path, ctype := range map[string]string{"/": "text/html", "/static/app.js": "text/javascript", "/static/timeline.js": "text/javascript", "/static/app.css": "text/css"} {
		resp, err := http.Get(url + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, path)
		assert.Contains(t, resp.Header.Get("Content-Type"), ctype, path)
		assert.NotEmpty(t, body, path)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitURL waits for serveMain's first line and returns the URL in it.
func waitURL(t *testing.T, out interface{ String() string }) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		s := out.String()
		if i := strings.Index(s, "http://"); i >= 0 && strings.Contains(s[i:], " (Ctrl-C") {
			return strings.TrimSuffix(s[i:i+strings.Index(s[i:], " ")], "/")
		}
	}
	t.Fatalf("no URL printed: %q", out.String())
	return ""
}

// drvsim serve stops cleanly when its context ends (SIGINT): open
// streams end, the machine closes, nothing is left running (goleak, in
// TestMain).
func TestServeStopsCleanly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs syncBuffer
	done := make(chan int)
	go func() {
		done <- serveMain(ctx, []string{"-port", "0", "-script", filepath.Join("testdata", "unplug-lesson.drvsh")}, &out, &errs)
	}()
	url := waitURL(t, &out)
	assert.Contains(t, out.String(), "the machine of testdata/unplug-lesson.drvsh on http://127.0.0.1:")
	st := getState(t, url)
	assert.Equal(t, []string{"usb1", "usb1:1.0"}, stateDevices(st), "the lesson's end")

	sctx, scancel := context.WithCancel(context.Background())
	defer scancel()
	stream := openStream(t, sctx, url)
	ev, _, err := stream.next()
	require.NoError(t, err)
	assert.Equal(t, "state", ev)

	cancel()
	select {
	case rc := <-done:
		assert.Equal(t, 0, rc, errs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	for {
		if _, _, err := stream.next(); err != nil {
			break // the stream ended with the server
		}
	}
	stream.resp.Body.Close()
	assert.Contains(t, out.String(), "drvsim serve: stopped")
}

// As a process: it prints its URL, serves, and exits 0 on SIGINT.
func TestServeProcessStopsOnSIGINT(t *testing.T) {
	cmd := exec.Command(drvsimBinary(t), "serve", "-port", "0")
	cmd.Env = append(os.Environ(), asCommand+"=1")
	var out, errs syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	require.NoError(t, cmd.Start())
	url := waitURL(t, &out)
	assert.Equal(t, []string{"usb1", "usb1:1.0"}, stateDevices(getState(t, url)))
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	require.NoError(t, err, "exit status: %s", errs.String())
	assert.Contains(t, out.String(), "drvsim serve: stopped")
}

// Bad usage of drvsim serve is status 2, a machine that cannot be built
// status 1.
func TestServeUsage(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.drvsh")
	require.NoError(t, os.WriteFile(bad, []byte("bus add usb\nunplug 1-1\n"), 0o644))
	for _, c := range []struct {
		args   []string
		status int
		msg    string
	}{
		{[]string{"-port", "70000"}, 2, "-port 70000: want 0 to 65535"},
		{[]string{"-script", "a", "-dts", "b"}, 2, "-script and -dts both given"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"-script", filepath.Join(t.TempDir(), "none.drvsh")}, 2, "no such file"},
		{[]string{"-script", bad, "-port", "0"}, 1, "error: line 2: unplug: nothing plugged in at 1-1"},
		{[]string{"-addr", "256.1.1.1", "-port", "0"}, 1, "drvsim serve:"},
	} {
		rc, out, errs := runCLI(append([]string{"serve"}, c.args...)...)
		assert.Equal(t, c.status, rc, "%v: %s%s", c.args, out, errs)
		assert.Contains(t, errs, c.msg, "%v", c.args)
	}
	rc, out, _ := runCLI("help", "serve")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, "usage: drvsim serve [-addr A] [-port N] [-script FILE | -dts FILE]")
}

// The device-tree hook: without the dt shell command, -dts is refused
// with errNoDeviceTree; with it, -dts runs "dt load FILE".
func TestServeDTSHook(t *testing.T) {
	boot, err := dtsBoot("board.dts")
	if lookupShellCommand("dt") == nil {
		require.ErrorIs(t, err, errNoDeviceTree)
		rc, _, errs := runCLI("serve", "-dts", "board.dts")
		assert.Equal(t, 2, rc)
		assert.Contains(t, errs, "cannot boot from a device tree yet")
		return
	}
	require.NoError(t, err)
	assert.Equal(t, []string{`dt load "board.dts"`}, boot)
}

// The page's events are valid JSON whatever a driver put in a name or a
// message, and say what the text trace says (trace.Escape).
func TestPageEventsJSON(t *testing.T) {
	evs := []trace.Event{
		{Seq: 1, Task: "a\"b", Kind: "k\\", Dev: "/dev/x\x00y", Func: "f\n", Msg: "bad \xff utf-8, \u2028 and <tags> & \"quotes\""},
		{Seq: 2},
	}
	data, err := json.Marshal(pageEvents(evs))
	require.NoError(t, err)
	require.True(t, json.Valid(data), "%s", data)
	var back pageEvents
	require.NoError(t, json.Unmarshal(data, &back))
	require.Len(t, back, 2)
	for i, e := range evs {
		want := trace.Event{Seq: e.Seq, Task: trace.Escape(e.Task), Kind: trace.Kind(trace.Escape(string(e.Kind))), Dev: trace.Escape(e.Dev), Func: trace.Escape(e.Func), Msg: trace.Escape(e.Msg)}
		assert.Equal(t, want, back[i])
	}
	empty, err := json.Marshal(pageEvents(nil))
	require.NoError(t, err)
	assert.Equal(t, "[]", string(empty))
}
