package main

// The HTTP side of `drvsim serve`: the page (embedded), a JSON API and a
// server-sent event stream. Every request is checked before anything is
// done: a bad one gets a 4xx status and {"error": "..."}, and changes
// nothing.

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

//go:embed web
var webFiles embed.FS

// Bounds of the requests the server takes.
const (
	maxBody      = 64 << 10 // bytes of a request body
	maxArgs      = 32       // arguments of a command
	maxArg       = 4096     // bytes of one argument
	maxPage      = 20000    // events in one /api/events answer or stream message
	maxClients   = 64       // event streams at once
	maxTravels   = 16       // time-travel runs kept
	streamPause  = 40 * time.Millisecond
	keepAlive    = 15 * time.Second
	exploreLimit = 1 // explorations at once
)

// server is the web server of one live machine.
type server struct {
	m       *liveMachine
	mux     *http.ServeMux
	travels travelStore
	explore chan struct{} // a slot per exploration allowed to run
	clients atomic.Int32
	// stop is closed by shutdown: event streams end.
	stop     chan struct{}
	stopOnce sync.Once
}

// newServer returns the server of m.
func newServer(m *liveMachine) *server {
	s := &server{m: m, mux: http.NewServeMux(), explore: make(chan struct{}, exploreLimit), stop: make(chan struct{})}
	static, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err)
	}
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeFileFS(w, r, static, "index.html")
	})
	s.mux.HandleFunc("GET /api/state", s.handleState)
	s.mux.HandleFunc("GET /api/events", s.handleEvents)
	s.mux.HandleFunc("GET /api/stream", s.handleStream)
	s.mux.HandleFunc("POST /api/cmd", s.handleCmd)
	s.mux.HandleFunc("GET /api/commands", s.handleCommands)
	s.mux.HandleFunc("GET /api/demos", s.handleDemos)
	s.mux.HandleFunc("POST /api/demo", s.handleDemo)
	s.mux.HandleFunc("GET /api/scenarios", s.handleScenarios)
	s.mux.HandleFunc("POST /api/travel", s.handleTravel)
	s.mux.HandleFunc("GET /api/travel/{id}", s.handleTravelGet)
	s.mux.HandleFunc("GET /api/travel/{id}/step/{k}", s.handleStep)
	s.mux.HandleFunc("/api/", s.handleNoAPI)
	return s
}

// handleNoAPI answers a request no API route took: 405 when the path is
// an API's under another method, 404 otherwise.
func (s *server) handleNoAPI(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, pat := s.mux.Handler(r2); pat != "" && pat != "/api/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		httpError(w, http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path+": use "+strings.Join(allow, " or "))
		return
	}
	httpError(w, http.StatusNotFound, "no such API: "+r.Method+" "+r.URL.Path)
}

// ServeHTTP checks what every request must be, then routes it: a request
// that changes something (POST) must come from the page itself, not from
// another site the browser is showing.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if o := r.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || u.Host != r.Host {
				httpError(w, http.StatusForbidden, "cross-origin request refused (Origin "+o+")")
				return
			}
		}
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// shutdown ends the event streams; the caller then shuts the HTTP server
// down and closes the machine.
func (s *server) shutdown() { s.stopOnce.Do(func() { close(s.stop) }) }

// httpError answers {"error": msg} with status.
func httpError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":"encoding the answer: `+err.Error()+`"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// decodeBody decodes a POST's JSON body into v: it must say it is JSON,
// fit in maxBody, hold one object and no field v does not have.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		httpError(w, http.StatusUnsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxBody))
			return false
		}
		httpError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return false
	}
	if dec.More() {
		httpError(w, http.StatusBadRequest, "bad JSON body: more than one value")
		return false
	}
	return true
}

// queryUint parses the query parameter name, def when absent, which must
// be an integer in [lo, hi].
func queryUint(r *http.Request, name string, def, lo, hi uint64) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%q: want an integer from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

func (s *server) handleState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.m.state())
}

// pageEvents are trace events as the page takes them, each an array
// [seq, task, kind, dev, func, msg] whose strings are as the text trace
// shows them (trace.Escape: printable, one line). They are encoded in
// one pass: a page may take a hundred thousand.
type pageEvents []trace.Event

func (l pageEvents) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64+len(l)*96)
	b = append(b, '[')
	for i, e := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendUint(b, e.Seq, 10)
		for _, f := range []string{e.Task, string(e.Kind), e.Dev, e.Func, e.Msg} {
			b = append(b, ',')
			b = appendJSONString(b, trace.Escape(f))
		}
		b = append(b, ']')
	}
	return append(b, ']'), nil
}

// appendJSONString appends s, valid UTF-8, as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// UnmarshalJSON reads what MarshalJSON writes (for a Go client: the
// tests).
func (l *pageEvents) UnmarshalJSON(data []byte) error {
	var rows [][]json.RawMessage
	if err := json.Unmarshal(data, &rows); err != nil {
		return err
	}
	out := make(pageEvents, len(rows))
	for i, f := range rows {
		if len(f) != 6 {
			return fmt.Errorf("event %d has %d fields, not 6", i, len(f))
		}
		e := &out[i]
		var kind string
		for j, dst := range []any{&e.Seq, &e.Task, &kind, &e.Dev, &e.Func, &e.Msg} {
			if err := json.Unmarshal(f[j], dst); err != nil {
				return err
			}
		}
		e.Kind = trace.Kind(kind)
	}
	*l = out
	return nil
}

// eventsPage is an answer of /api/events: events after a Seq, at most a
// page of them; Last is the trace's last Seq.
type eventsPage struct {
	Events pageEvents `json:"events"`
	Last   uint64     `json:"last"`
	More   bool       `json:"more"`
}

// handleEvents is GET /api/events?since=SEQ&limit=N.
func (s *server) handleEvents(w http.ResponseWriter, r *http.Request) {
	since, err := queryUint(r, "since", 0, 0, 1<<62)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	limit, err := queryUint(r, "limit", maxPage, 1, maxPage)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.eventsAfter(since, int(limit)))
}

func (s *server) eventsAfter(since uint64, limit int) eventsPage {
	last := s.m.log.Seq()
	evs := s.m.log.Since(since)
	p := eventsPage{Last: last}
	if len(evs) > limit {
		evs, p.More = evs[:limit], true
	}
	p.Events = evs
	return p
}

// handleStream is GET /api/stream?since=SEQ: server-sent events. A
// "state" message carries the machine's state whenever it changed, an
// "events" message (id: the last Seq in it) the trace's new events, at
// most maxPage at a time; a reconnecting EventSource resumes after its
// Last-Event-ID.
func (s *server) handleStream(w http.ResponseWriter, r *http.Request) {
	since, err := queryUint(r, "since", 0, 0, 1<<62)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		if since, err = strconv.ParseUint(id, 10, 64); err != nil {
			httpError(w, http.StatusBadRequest, "bad Last-Event-ID "+strconv.Quote(id))
			return
		}
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		httpError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	if n := s.clients.Add(1); n > maxClients {
		s.clients.Add(-1)
		httpError(w, http.StatusServiceUnavailable, fmt.Sprintf("%d event streams are open already", maxClients))
		return
	}
	defer s.clients.Add(-1)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var sentSeq, sentVersion uint64
	sentState := false
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	for {
		wake := s.m.changed.wait()
		if st := s.m.state(); !sentState || st.Seq != sentSeq || st.Version != sentVersion {
			if writeSSE(w, "state", "", st) != nil {
				return
			}
			sentState, sentSeq, sentVersion = true, st.Seq, st.Version
		}
		evs := s.m.log.Since(since)
		for len(evs) > 0 {
			p := eventsPage{Events: evs[:min(len(evs), maxPage)], Last: evs[len(evs)-1].Seq}
			evs = evs[len(p.Events):]
			p.More = len(evs) > 0
			since = p.Events[len(p.Events)-1].Seq
			if writeSSE(w, "events", strconv.FormatUint(since, 10), p) != nil {
				return
			}
		}
		fl.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-s.stop:
			return
		case <-ping.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		case <-wake:
			// Let a burst of events gather into one message.
			select {
			case <-r.Context().Done():
				return
			case <-s.stop:
				return
			case <-time.After(streamPause):
			}
		}
	}
}

// writeSSE writes one server-sent event: its type, its id (if any) and v
// as JSON on one data line.
func writeSSE(w io.Writer, event, id string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("event: " + event + "\n")
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	b.WriteString("data: ")
	b.Write(data)
	b.WriteString("\n\n")
	_, err = w.Write(b.Bytes())
	return err
}

// cmdRequest is the body of POST /api/cmd: a command and its arguments,
// or a command line as the shell reads it (Line). Wait makes a read that
// has nothing to return sleep in the driver.
type cmdRequest struct {
	Cmd  string   `json:"cmd"`
	Args []string `json:"args"`
	Line string   `json:"line"`
	Wait bool     `json:"wait"`
}

// handleCmd is POST /api/cmd: one shell command on the machine.
func (s *server) handleCmd(w http.ResponseWriter, r *http.Request) {
	var req cmdRequest
	if !decodeBody(w, r, &req) {
		return
	}
	name, args, err := req.words()
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	res := s.m.run(name, args, req.Wait)
	writeJSON(w, res.Status, res)
}

// words returns the request's command and arguments, checked: a command
// or a line (not both), bounded arguments of valid UTF-8.
func (req cmdRequest) words() (string, []string, error) {
	switch {
	case req.Line != "" && (req.Cmd != "" || req.Args != nil):
		return "", nil, errors.New("give cmd and args, or line, not both")
	case req.Line != "":
		if len(req.Line) > maxArg {
			return "", nil, fmt.Errorf("the line is longer than %d bytes", maxArg)
		}
		words, err := shellWords(strings.TrimSpace(req.Line))
		if err != nil {
			return "", nil, err
		}
		if len(words) == 0 {
			return "", nil, errors.New("an empty line")
		}
		req.Cmd, req.Args = words[0], words[1:]
	case req.Cmd == "":
		return "", nil, errors.New("no cmd")
	}
	if req.Wait && req.Cmd != "read" {
		return "", nil, fmt.Errorf("wait is for read, not %s", req.Cmd)
	}
	if len(req.Args) > maxArgs {
		return "", nil, fmt.Errorf("%d arguments: at most %d", len(req.Args), maxArgs)
	}
	for i, a := range append([]string{req.Cmd}, req.Args...) {
		if len(a) > maxArg {
			return "", nil, fmt.Errorf("argument %d is longer than %d bytes", i, maxArg)
		}
		if !utf8.ValidString(a) {
			return "", nil, fmt.Errorf("argument %d is not valid UTF-8 (quote bytes in a line: \"\\xff\")", i)
		}
	}
	return req.Cmd, req.Args, nil
}

// commandView is a shell command, as the page's console lists it.
type commandView struct {
	Name    string `json:"name"`
	Args    string `json:"args"`
	Summary string `json:"summary"`
}

func (s *server) handleCommands(w http.ResponseWriter, r *http.Request) {
	out := []commandView{}
	for _, c := range shellCommands {
		if pageCommand(c.name) != nil {
			out = append(out, commandView{Name: c.name, Args: c.args, Summary: c.summary})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// demoView is a demo, as the page lists it.
type demoView struct {
	Name  string `json:"name"`
	About string `json:"about"`
}

func (s *server) handleDemos(w http.ResponseWriter, r *http.Request) {
	out := []demoView{}
	for _, d := range demos {
		out = append(out, demoView{Name: d.name, About: d.about})
	}
	writeJSON(w, http.StatusOK, out)
}

// phaseView is a phase of a recorded demo.
type phaseView struct {
	Heading string     `json:"heading"`
	Events  pageEvents `json:"events"`
	Notes   []string   `json:"notes"`
}

// demoRun is a recorded demo, to step through phase by phase.
type demoRun struct {
	*recordedStory
	Phases []phaseView `json:"phases"`
}

// handleDemo is POST /api/demo {"name": NAME}: the demo's run, recorded.
func (s *server) handleDemo(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	d, ok := lookupDemo(req.Name)
	if !ok {
		httpError(w, http.StatusNotFound, fmt.Sprintf("no demo %q", req.Name))
		return
	}
	st := recordStory()
	st.title("drvsim demo "+d.name, d.about)
	if err := d.run(st); err != nil {
		httpError(w, http.StatusInternalServerError, fmt.Sprintf("demo %s: %v", d.name, err))
		return
	}
	out := demoRun{recordedStory: st.rec, Phases: []phaseView{}}
	if out.Intro == nil {
		out.Intro = []string{}
	}
	for _, p := range st.rec.Phases {
		out.Phases = append(out.Phases, phaseView{Heading: p.Heading, Events: p.Events, Notes: append([]string{}, p.Notes...)})
	}
	writeJSON(w, http.StatusOK, out)
}

// scenarioView is a registered scenario, as the page lists it.
type scenarioView struct {
	Name        string `json:"name"`
	Under       string `json:"under"`
	Description string `json:"description"`
	// Want is the bug exploring it must find, "" for none.
	Want     string `json:"want"`
	Settings string `json:"settings"`
}

func viewScenario(sc sim.Scenario) scenarioView {
	return scenarioView{Name: sc.Name, Under: sc.Under, Description: sc.Description, Want: string(sc.Want.Bug), Settings: settings(sc.Defaults)}
}

func (s *server) handleScenarios(w http.ResponseWriter, r *http.Request) {
	out := []scenarioView{}
	for _, sc := range scenarios.All() {
		out = append(out, viewScenario(sc))
	}
	writeJSON(w, http.StatusOK, out)
}

// travelRequest is the body of POST /api/travel: explore the scenario
// (its default settings, from Seed) and step through the failing
// schedule it finds, or run the one random schedule of Seed.
type travelRequest struct {
	Scenario string `json:"scenario"`
	Mode     string `json:"mode"`
	Seed     uint64 `json:"seed"`
}

// travelView is a run to step through.
type travelView struct {
	ID       string       `json:"id"`
	Scenario scenarioView `json:"scenario"`
	How      string       `json:"how"`
	// Verdict compares the exploration with the scenario's prediction.
	Verdict string       `json:"verdict"`
	Found   bool         `json:"found"`
	Steps   []stepLine   `json:"steps"`
	Events  pageEvents   `json:"events"`
	Failure *failureView `json:"failure"`
	Replay  string       `json:"replay"`
}

// stepLine is a step of the schedule, with the events it covers.
type stepLine struct {
	Line string `json:"line"`
	Task string `json:"task"`
	Next string `json:"next"`
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

// handleTravel is POST /api/travel.
func (s *server) handleTravel(w http.ResponseWriter, r *http.Request) {
	var req travelRequest
	if !decodeBody(w, r, &req) {
		return
	}
	sc, ok := scenarios.Lookup(req.Scenario)
	if !ok {
		httpError(w, http.StatusNotFound, fmt.Sprintf("no scenario %q", req.Scenario))
		return
	}
	if req.Mode != "explore" && req.Mode != "seed" {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("mode %q: want explore or seed", req.Mode))
		return
	}
	select {
	case s.explore <- struct{}{}:
		defer func() { <-s.explore }()
	case <-r.Context().Done():
		return
	case <-s.stop:
		httpError(w, http.StatusServiceUnavailable, "the server is stopping")
		return
	}
	var (
		res     *sim.Result
		how     string
		verdict string
	)
	if req.Mode == "explore" {
		cfg := sc.Config()
		cfg.Seed = max(req.Seed, 1)
		ex := sc.Explore(cfg)
		verdict = "as predicted: "
		if err := sc.Check(ex); err != nil {
			verdict = "NOT as predicted: " + err.Error() + ": "
		}
		if !ex.Failed() {
			writeJSON(w, http.StatusOK, travelView{Scenario: viewScenario(sc), Found: false,
				Verdict: verdict + fmt.Sprintf("no schedule fails (%s, %d schedules); run one schedule to step through it", ex.Mode, ex.Schedules),
				Steps:   []stepLine{}, Events: pageEvents{}})
			return
		}
		res = ex.Failure
		how = fmt.Sprintf("the failing schedule of a%s %s exploration (schedule %d)", article(ex.Mode.String()), ex.Mode, ex.Schedules)
		verdict += fmt.Sprintf("the %s has a %s", sc.Under, res.Failure.Kind)
	} else {
		setup := sc.New()
		res = sim.Run(sim.Config{Seed: req.Seed, Mode: sim.Random}, setup.Run)
		if setup.Close != nil {
			setup.Close()
		}
		how = fmt.Sprintf("one random schedule, seed %d", req.Seed)
		verdict = "this schedule passes"
		if res.Failed() {
			verdict = "this schedule fails: " + res.Failure.Title
		}
	}
	tr, err := newTravel(sc, res, how)
	if err != nil {
		httpError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	id := s.travels.add(tr)
	writeJSON(w, http.StatusOK, s.viewTravel(id, tr, verdict))
}

// article is "n" before a word starting with a vowel.
func article(w string) string {
	if w != "" && strings.ContainsRune("aeiou", rune(w[0])) {
		return "n"
	}
	return ""
}

func (s *server) viewTravel(id string, tr *travel, verdict string) travelView {
	v := travelView{ID: id, Scenario: viewScenario(tr.sc), How: tr.how, Verdict: verdict, Found: true,
		Events: tr.res.Events, Failure: tr.failure(), Replay: tr.replay()}
	for k, st := range tr.res.Steps {
		v.Steps = append(v.Steps, stepLine{Line: strings.TrimSpace(st.String()), Task: st.Task, Next: st.Next, From: tr.ends[k], To: tr.ends[k+1]})
	}
	return v
}

// travelOf returns the run the path's {id} names, or answers 404.
func (s *server) travelOf(w http.ResponseWriter, r *http.Request) (*travel, string, bool) {
	id := r.PathValue("id")
	tr := s.travels.get(id)
	if tr == nil {
		httpError(w, http.StatusNotFound, fmt.Sprintf("no run %q (runs are kept for the last %d explorations)", id, maxTravels))
		return nil, "", false
	}
	return tr, id, true
}

func (s *server) handleTravelGet(w http.ResponseWriter, r *http.Request) {
	if tr, id, ok := s.travelOf(w, r); ok {
		writeJSON(w, http.StatusOK, s.viewTravel(id, tr, ""))
	}
}

// handleStep is GET /api/travel/{id}/step/{k}: the view at step k.
func (s *server) handleStep(w http.ResponseWriter, r *http.Request) {
	tr, _, ok := s.travelOf(w, r)
	if !ok {
		return
	}
	k, err := strconv.Atoi(r.PathValue("k"))
	if err != nil || k < 0 || k > tr.steps() {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("step %q: want 0 to %d", r.PathValue("k"), tr.steps()))
		return
	}
	writeJSON(w, http.StatusOK, tr.view(k))
}

// travelStore keeps the last maxTravels runs.
type travelStore struct {
	mu    sync.Mutex
	next  int
	ids   []string
	byID  map[string]*travel
	limit int
}

func (t *travelStore) add(tr *travel) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID == nil {
		t.byID = map[string]*travel{}
	}
	t.next++
	id := "r" + strconv.Itoa(t.next)
	t.byID[id] = tr
	t.ids = append(t.ids, id)
	limit := t.limit
	if limit == 0 {
		limit = maxTravels
	}
	for len(t.ids) > limit {
		delete(t.byID, t.ids[0])
		t.ids = t.ids[1:]
	}
	return id
}

func (t *travelStore) get(id string) *travel {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byID[id]
}

// serveCtx runs srv until ctx is done, then stops it: the event streams
// end, the HTTP server shuts down (waiting for the requests in flight),
// and the machine closes.
func serveCtx(ctx context.Context, srv *http.Server, s *server, serve func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		s.shutdown()
		s.m.close()
		return err
	case <-ctx.Done():
	}
	s.shutdown()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	s.m.close()
	return err
}
