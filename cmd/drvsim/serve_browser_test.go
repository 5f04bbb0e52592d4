package main

// The page, tested in a real browser: headless Chromium driven through
// the DevTools protocol (chromedp). The package starts one browser, on
// first use, shared by the tests (each has a tab of its own), and closes
// it in TestMain.
//
// Where Chromium cannot start, the tests fail in CI (the CI environment
// variable is set: .ci/run installs Chromium) and are skipped elsewhere,
// with a message saying how to install it.
//
// With -update, the tests write their screenshots into docs/ (web-*.png),
// the pictures docs/web.md shows.

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/trace"
)

// browser is the package's Chromium, started by the first test that
// needs it.
var browser struct {
	once  sync.Once
	ctx   context.Context
	close func()
	err   error
}

// chromiumPath finds the browser: $DRVSIM_CHROMIUM, else chromium (the
// Debian package's), chromium-browser or google-chrome on $PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("DRVSIM_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium, chromium-browser or google-chrome on $PATH, and DRVSIM_CHROMIUM is not set")
}

// startBrowser starts Chromium headless, with the flags this machine's
// closed network needs (no background networking, no component updates,
// no QUIC) and a new empty profile.
func startBrowser() {
	path, err := chromiumPath()
	if err != nil {
		browser.err = err
		return
	}
	dir, err := os.MkdirTemp("", "drvsim-chromium-")
	if err != nil {
		browser.err = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1360, 1000),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		bcancel()
		acancel()
		os.RemoveAll(dir)
		browser.err = fmt.Errorf("starting %s: %w", path, err)
		return
	}
	browser.ctx = bctx
	browser.close = func() {
		bcancel()
		acancel()
		os.RemoveAll(dir)
	}
}

// closeBrowser stops the package's browser, if it started.
func closeBrowser() {
	if browser.close != nil {
		browser.close()
	}
}

// newTab returns a new tab of the package's browser, closed at the end
// of the test, whose actions time out after two minutes (a machine
// shared with other work can be slow). Without a browser
// the test fails in CI and is skipped elsewhere.
func newTab(t *testing.T) context.Context {
	t.Helper()
	browser.once.Do(startBrowser)
	if browser.err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the browser tests need Chromium, and it cannot start: %v", browser.err)
		}
		t.Skipf("skipping the browser test: %v. To run it, install Chromium (Debian: apt-get install chromium) or set DRVSIM_CHROMIUM to a Chromium or Chrome binary", browser.err)
	}
	tab, cancel := chromedp.NewContext(browser.ctx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(tab)) // opens the tab
	ctx, cancelTimeout := context.WithTimeout(tab, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// testServer serves a live machine booted with boot, for the test.
func testServer(t *testing.T, boot ...string) (string, *server) {
	t.Helper()
	m, err := newLiveMachine(boot)
	require.NoError(t, err)
	s := newServer(m)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		s.shutdown()
		ts.Close()
		m.close()
	})
	return ts.URL, s
}

// skelMachine is a machine with a usb-skeleton device plugged in and its
// file open as fd 3.
var skelMachine = []string{"bus add usb", "plug fff0:fff0 1-1", "open /dev/skel0"}

// pollTimeout bounds a wait for the page.
const pollTimeout = 45 * time.Second

// waitFor polls the page until the JavaScript expression is true.
func waitFor(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(pollTimeout)))
	require.NoError(t, err, "waiting for %s", expr)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, "evaluating %s", expr)
	return v
}

func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)), "clicking %s", sel)
}

// screenshot writes the page as it is in the window (or, with full, the
// whole page) to docs/NAME.png, with -update.
func screenshot(t *testing.T, ctx context.Context, name string, full bool) {
	t.Helper()
	if !*update {
		return
	}
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(ctx, shot)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join("..", "..", "docs", name+".png"), png, 0o644))
}

// timelineHas is a JavaScript expression: some event of the live
// timeline matches all of the words.
func timelineHas(words ...string) string {
	var conds []string
	for _, w := range words {
		conds = append(conds, fmt.Sprintf("e.join(' ').includes(%q)", w))
	}
	return "window.drvsim.live.events.some(e => " + strings.Join(conds, " && ") + ")"
}

// The first test: load the page, click unplug, see the device
// leave the tree and -ENODEV appear in the timeline (the file's next
// read).
func TestBrowserUnplug(t *testing.T) {
	url, _ := testServer(t, skelMachine...)
	ctx := newTab(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	waitFor(t, ctx, `document.querySelector('#tree .dev[data-name="1-1:1.0"][data-driver="skel-revocable"]')`)
	waitFor(t, ctx, `document.querySelector('#files tr[data-fd="3"]')`)

	click(t, ctx, `button[data-action="unplug"][data-port="1-1"]`)
	waitFor(t, ctx, `!document.querySelector('#tree .dev[data-name="1-1"]') && !document.querySelector('#tree .dev[data-name="1-1:1.0"]')`)
	assert.True(t, eval[bool](t, ctx, `!!document.querySelector('#tree .dev[data-name="usb1"]')`), "the root hub stays")
	waitFor(t, ctx, timelineHas("usb_disconnect", "/sys/devices/usb1/1-1"))

	click(t, ctx, `button[data-action="read"][data-fd="3"]`)
	waitFor(t, ctx, timelineHas("vfs_read", "/dev/skel0", "-ENODEV"))
	// The row is drawn: the timeline follows the newest events.
	waitFor(t, ctx, `[...document.querySelectorAll('#live-timeline .tl-row')].some(r => r.style.display !== 'none' && r.textContent.includes('vfs_read /dev/skel0: -ENODEV'))`)
	assert.Contains(t, eval[string](t, ctx, `document.getElementById('result').textContent`), "-ENODEV")
	screenshot(t, ctx, "web-machine", false)
}

// A read sleeping in the driver when the cable is pulled: the unplug's
// revoke waits for the reader (synchronize_srcu), the read returns
// -ENODEV, and the grace period ends; each on its task's lane.
func TestBrowserUnplugMidRead(t *testing.T) {
	url, _ := testServer(t, skelMachine...)
	ctx := newTab(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	waitFor(t, ctx, `document.querySelector('#files tr[data-fd="3"]')`)

	click(t, ctx, `button[data-action="read-wait"][data-fd="3"]`)
	waitFor(t, ctx, `document.querySelector('#reads li[data-done="false"]')`)
	click(t, ctx, `button[data-action="unplug"][data-port="1-1"]`)
	waitFor(t, ctx, `document.querySelector('#reads li[data-done="true"]')`)
	assert.Contains(t, eval[string](t, ctx, `document.querySelector('#reads li[data-done="true"]').textContent`), "returned -ENODEV")

	// The revoke in hub_wq waits for the reader to leave its read
	// section (its io_mutex is released inside it) before the grace
	// period ends. The machine runs on real goroutines: whether the
	// reader was still inside when the grace period started varies from
	// run to run (the demo and time travel show one schedule exactly).
	seqOf := func(task, text string) int {
		return eval[int](t, ctx, fmt.Sprintf(`(window.drvsim.live.events.find(e => e[1] === %q && e.join(' ').includes(%q)) || [-1])[0]`, task, text))
	}
	start := seqOf("hub_wq", "grace period 1 start")
	unlock := seqOf("reader fd 3", "mutex_unlock")
	read := seqOf("reader fd 3", "vfs_read -ENODEV")
	done := seqOf("hub_wq", "grace period 1 done")
	assert.Positive(t, start)
	assert.Positive(t, read)
	assert.Positive(t, unlock)
	assert.Less(t, start, done)
	assert.Less(t, unlock, done, "the grace period ends after the reader left its section")
	lanes := eval[[]string](t, ctx, `[...document.querySelectorAll('#live-timeline .tl-lane')].map(e => e.textContent)`)
	assert.Subset(t, lanes, []string{"hub_wq", "reader fd 3", "process"})

	// The picture: the grace period, without the notifier noise.
	click(t, ctx, `#live-timeline .tl-brief`)
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.drvsim.live.scrollToSeq(%d)`, start-12))))
	waitFor(t, ctx, fmt.Sprintf(`document.querySelector('#live-timeline .tl-row[data-seq="%d"]')`, done))
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)))
	screenshot(t, ctx, "web-unplug-mid-read", false)
}

// consoleRun types a command line into the page's console and runs it,
// waiting for its result line.
func consoleRun(t *testing.T, ctx context.Context, line string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#console-line"), line)))
	click(t, ctx, `#console button[type="submit"]`)
	waitFor(t, ctx, fmt.Sprintf(`document.getElementById('result').textContent.startsWith(%q)`, "✓ "+line))
}

// A device's runtime PM badge follows it: a USB device plugged in is
// active (autosuspend forbidden), suspends once it is allowed to and the
// virtual clock has passed its autosuspend delay, and is resumed by a
// driver's pm_runtime_get_sync, all from the console's runtime and wait
// commands. In time travel, the broken sensor driver's run shows its
// sensor active at the start, suspending while pm_wq's worker runs its
// runtime_suspend, and suspended at the use-after-free.
func TestBrowserRuntimePM(t *testing.T) {
	url, _ := testServer(t, "bus add usb", "plug 1234:5678 1-1")
	ctx := newTab(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	badge := func(tree, name, word string) string {
		return fmt.Sprintf(`(() => { const d = document.querySelector('#%s .dev[data-name=%q]'); return !!d && d.dataset.rpm === %q && d.querySelector('.tag.rpm-%s').textContent === 'rpm=%s'; })()`, tree, name, word, word, word)
	}
	waitFor(t, ctx, badge("tree", "1-1", "active"))
	assert.True(t, eval[bool](t, ctx, badge("tree", "1-1:1.0", "unsupported")), "the interface has no runtime PM of its own enabled")

	consoleRun(t, ctx, "runtime auto 1-1")
	assert.True(t, eval[bool](t, ctx, badge("tree", "1-1", "active")), "the autosuspend delay has not passed")
	consoleRun(t, ctx, "wait 2s")
	waitFor(t, ctx, badge("tree", "1-1", "suspended"))
	waitFor(t, ctx, timelineHas("__update_runtime_status", "/sys/devices/usb1/1-1", "suspending -> suspended"))
	// The picture: the device's events only, its suspend in view.
	click(t, ctx, `#tree .dev[data-name="1-1"] > .name`)
	seq := eval[int](t, ctx, `(window.drvsim.live.events.find(e => e.join(' ').includes('pm_suspend_timer_fn')) || [-1])[0]`)
	require.Positive(t, seq)
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.drvsim.live.scrollToSeq(%d)`, seq-2))))
	waitFor(t, ctx, fmt.Sprintf(`document.querySelector('#live-timeline .tl-row[data-seq="%d"]')`, seq))
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)))
	screenshot(t, ctx, "web-runtime-pm", false)
	click(t, ctx, `#tree .dev[data-name="1-1"] > .name`)
	consoleRun(t, ctx, "runtime get 1-1")
	waitFor(t, ctx, badge("tree", "1-1", "active"))

	click(t, ctx, `nav [data-tab="travel"]`)
	const sc = "pm-ioctl-no-get-vs-runtime-suspend"
	waitFor(t, ctx, fmt.Sprintf(`document.querySelector('#sc-select option[value=%q]')`, sc))
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#sc-select"), sc)))
	click(t, ctx, "#tt-explore")
	waitFor(t, ctx, `!document.getElementById('tt-run').hidden && document.getElementById('tab-travel').dataset.step === '0'`)
	waitFor(t, ctx, badge("tt-tree", "sensor", "active"))
	click(t, ctx, "#tt-fail")
	failStep := eval[string](t, ctx, `String(document.getElementById('tt-slider').max)`)
	waitFor(t, ctx, fmt.Sprintf(`document.getElementById('tab-travel').dataset.step === %q`, failStep))
	waitFor(t, ctx, badge("tt-tree", "sensor", "suspended"))
	// Back, step by step, to the runtime_suspend callback.
	for k := atoi(t, failStep) - 1; ; k-- {
		require.Positive(t, k, "no step with the sensor suspending")
		click(t, ctx, "#tt-prev")
		waitFor(t, ctx, fmt.Sprintf(`document.getElementById('tab-travel').dataset.step === '%d'`, k))
		if eval[bool](t, ctx, badge("tt-tree", "sensor", "suspending")) {
			break
		}
		require.True(t, eval[bool](t, ctx, badge("tt-tree", "sensor", "suspended")), "step %d", k)
	}
}

// The second test: pick the broken skeleton's scenario, explore
// it, and step through the failing schedule to the use-after-free; the
// report opens at the step of the bad access, not before.
func TestBrowserTimeTravel(t *testing.T) {
	url, _ := testServer(t, bootUSB...)
	ctx := newTab(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url+"/#travel")))
	waitFor(t, ctx, `document.querySelector('#sc-select option[value="usb-skel-broken"]')`)
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#sc-select"), "usb-skel-broken")))
	click(t, ctx, "#tt-explore")
	waitFor(t, ctx, `!document.getElementById('tt-run').hidden && document.getElementById('tab-travel').dataset.step === '0'`)
	assert.Contains(t, eval[string](t, ctx, `document.getElementById('tt-verdict').textContent`), "as predicted")
	replay := eval[string](t, ctx, `document.getElementById('tt-replay').textContent`)
	assert.True(t, strings.HasPrefix(replay, "drvsim explore -schedule '"), replay)
	steps := eval[int](t, ctx, `Number(document.getElementById('tt-slider').max)`)
	require.Positive(t, steps)

	for k := 1; ; k++ {
		require.LessOrEqual(t, k, steps, "stepped past the end without a report")
		hidden := eval[bool](t, ctx, `document.getElementById('tt-report').hidden`)
		require.True(t, hidden, "the report shows at step %d, before the failure", k-1)
		click(t, ctx, "#tt-next")
		waitFor(t, ctx, fmt.Sprintf(`document.getElementById('tab-travel').dataset.step === '%d'`, k))
		if !eval[bool](t, ctx, `document.getElementById('tt-report').hidden`) {
			assert.Equal(t, steps, k, "the use-after-free is in the last step")
			break
		}
	}
	assert.True(t, eval[bool](t, ctx, `document.getElementById('tt-report').open`), "the report opens at its step")
	assert.Contains(t, eval[string](t, ctx, `document.getElementById('tt-report-title').textContent`), "BUG: KASAN: use-after-free in skel_read")
	assert.Equal(t, "failed", eval[string](t, ctx, `document.querySelector('#tt-tasks tr[data-task="reader"]').dataset.state`))
	assert.True(t, eval[bool](t, ctx, `document.querySelector('#tt-memory tr[data-object="bulk_in_buffer"]').classList.contains('reported')`))
	assert.NotContains(t, eval[string](t, ctx, `[...document.querySelectorAll('#tt-tree .dev')].map(e => e.dataset.name).join(' ')`), "1-1:1.0", "the interface is gone")
	// The trace shows this step's events, the bad access among them.
	waitFor(t, ctx, `[...document.querySelectorAll('#tt-timeline .tl-row.hl')].some(r => r.style.display !== 'none' && r.textContent.includes('use-after-free'))`)
	screenshot(t, ctx, "web-time-travel", true)

	// The report's "Freed" event is a step of its own: there the buffer
	// goes from live to freed.
	click(t, ctx, `#tt-marks li:nth-child(3) button`)
	freedStep := eval[string](t, ctx, `document.querySelector('#tt-marks li:nth-child(3) button').dataset.step`)
	waitFor(t, ctx, fmt.Sprintf(`document.getElementById('tab-travel').dataset.step === %q`, freedStep))
	assert.Contains(t, eval[string](t, ctx, `document.querySelector('#tt-marks li:nth-child(3)').textContent`), "Freed by task unplug")
	assert.Equal(t, "true", eval[string](t, ctx, `document.querySelector('#tt-memory tr[data-object="bulk_in_buffer"]').dataset.freed`))
	assert.True(t, eval[bool](t, ctx, `document.getElementById('tt-report').hidden`), "before the failure, no report")
	click(t, ctx, "#tt-prev")
	waitFor(t, ctx, fmt.Sprintf(`document.getElementById('tab-travel').dataset.step === '%d'`, atoi(t, freedStep)-1))
	assert.Equal(t, "false", eval[string](t, ctx, `document.querySelector('#tt-memory tr[data-object="bulk_in_buffer"]').dataset.freed`))

	// The replay command is copied as shown.
	click(t, ctx, "#tt-copy")
	waitFor(t, ctx, `document.getElementById('tt-copied').textContent !== ''`)
	assert.Equal(t, replay, eval[string](t, ctx, `document.body.dataset.copied`))
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err)
	return n
}

// A demo, step by step: each phase's heading, notes and events.
func TestBrowserDemoStepByStep(t *testing.T) {
	url, _ := testServer(t, bootUSB...)
	ctx := newTab(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url+"/#demos")))
	waitFor(t, ctx, `document.querySelector('#demo-select option[value="devres"]')`)
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#demo-select"), "devres")))
	click(t, ctx, "#demo-run")
	waitFor(t, ctx, `document.getElementById('demo-pos').textContent === 'phase 1 of 2'`)
	assert.Contains(t, eval[string](t, ctx, `document.getElementById('demo-heading').textContent`), "1. a driver acquires three resources")
	assert.True(t, eval[bool](t, ctx, `document.getElementById('demo-prev').disabled`))
	click(t, ctx, "#demo-next")
	waitFor(t, ctx, `document.getElementById('demo-pos').textContent === 'phase 2 of 2'`)
	assert.Contains(t, eval[string](t, ctx, `document.getElementById('demo-heading').textContent`), "2. the device is unbound: devres_release_all")
	waitFor(t, ctx, `[...document.querySelectorAll('#demo-timeline .tl-row')].some(r => r.style.display !== 'none' && r.textContent.includes('devm_action_release /sys/devices/platform/serial0: iounmap'))`)
	assert.True(t, eval[bool](t, ctx, `document.getElementById('demo-next').disabled`))
}

// The timeline stays usable with 100,000 events: it draws the rows in
// view only, scrolls to the last event, and filters by device and by
// kind over all of them. The first 10,000 come from the machine's trace
// through the event stream; the page adds the other 90,000 itself (the
// same shape, the next sequence numbers), which spares the test the
// cost of recording them under the race detector.
func TestBrowserTimeline100k(t *testing.T) {
	url, s := testServer(t, bootUSB...)
	ctx := newTab(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	waitFor(t, ctx, `Number(document.getElementById('live-timeline').dataset.total) > 0`)
	boot := s.m.log.Seq()

	// Event i: task "loader 0" or "loader 1", device dev(i%10), kind
	// note or bulk by tens.
	const n, streamed = 100000, 10000
	kind := func(i int) trace.Kind {
		if (i/10)%2 == 1 {
			return "bulk"
		}
		return trace.Note
	}
	s.m.tasks.as("loader 0", func() {
		for i := range streamed {
			s.m.log.Emit(trace.Event{Kind: kind(i), Dev: fmt.Sprintf("/sys/devices/platform/dev%d", i%10), Func: "emit", Msg: fmt.Sprintf("event %d", i)})
		}
	})
	waitFor(t, ctx, fmt.Sprintf(`Number(document.getElementById('live-timeline').dataset.total) === %d`, boot+streamed))
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const evs = [];
		for (let i = %d; i < %d; i++) {
			evs.push([%d + 1 + i, "loader 1", Math.floor(i / 10) %% 2 ? "bulk" : "note", "/sys/devices/platform/dev" + (i %% 10), "emit", "event " + i]);
		}
		window.drvsim.live.append(evs);
	})()`, streamed, n, boot))))
	last := boot + n
	waitFor(t, ctx, fmt.Sprintf(`Number(document.getElementById('live-timeline').dataset.total) === %d`, last))

	rendered := eval[int](t, ctx, `Number(document.getElementById('live-timeline').dataset.rendered)`)
	assert.Positive(t, rendered)
	assert.LessOrEqual(t, rendered, 100, "only the rows in view are drawn")
	assert.LessOrEqual(t, eval[int](t, ctx, `document.querySelectorAll('#live-timeline .tl-row').length`), 100)
	// It followed the events to the last one.
	waitFor(t, ctx, fmt.Sprintf(`document.querySelector('#live-timeline .tl-row[data-seq="%d"]')`, last))

	// Scroll to the top, then filter by device: a tenth of the load.
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#live-timeline .tl-view').scrollTop = 0`)))
	waitFor(t, ctx, `document.querySelector('#live-timeline .tl-row[data-seq="1"]')`)
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#live-timeline .tl-dev"), "platform/dev7")))
	waitFor(t, ctx, fmt.Sprintf(`document.getElementById('live-timeline').dataset.count === '%d'`, n/10))
	assert.LessOrEqual(t, eval[int](t, ctx, `Number(document.getElementById('live-timeline').dataset.rendered)`), 100)
	// Then by kind: without the bulk events, half of those.
	click(t, ctx, `#live-timeline .chip[data-kind="bulk"]`)
	waitFor(t, ctx, fmt.Sprintf(`document.getElementById('live-timeline').dataset.count === '%d'`, n/20))
	// The first event shown: dev7's first note (i=7).
	waitFor(t, ctx, fmt.Sprintf(`document.getElementById('live-timeline').dataset.first === '%d'`, boot+1+7))
	assert.LessOrEqual(t, eval[int](t, ctx, `Number(document.getElementById('live-timeline').dataset.rendered)`), 100)
}
