package device

import (
	"fmt"
	"strings"
	"sync"

	"github.com/drvsim/drvsim/env"
)

// Under a simulator a device records where its references were taken and
// dropped, and its machine's leak checks (env.LeakDeviceRefs,
// env.LeakDevres) look at it when a run ends: a device that is not
// registered any more (or never was) must have been released, its last
// put_device run; and a device no driver is bound to must hold no devres
// actions (the kernel warns "resources present before probing" at the next
// probe, and runs them only at release).

// refTrack is the record of a device's get_device and put_device calls.
type refTrack struct {
	mu   sync.Mutex
	gets []env.Origin
	puts []env.Origin
}

// track records a get_device (get) or put_device call site.
func (d *Device) track(get bool) {
	d.mu.Lock()
	t, e := d.refs2, d.env
	d.mu.Unlock()
	if t == nil {
		return
	}
	o := e.Origin(1)
	t.mu.Lock()
	if get {
		t.gets = append(t.gets, o)
	} else {
		t.puts = append(t.puts, o)
	}
	t.mu.Unlock()
}

// refLeaks reports a device that is not registered and not released.
func (d *Device) refLeaks() []string {
	d.mu.Lock()
	state, refs, released := d.state, d.refs, d.released
	d.mu.Unlock()
	if released || (state != StateInitialized && state != StateRemoved) {
		return nil
	}
	what := "after device_del"
	if state == StateInitialized {
		what = "after device_initialize, never added"
	}
	t := d.refs2
	t.mu.Lock()
	defer t.mu.Unlock()
	return []string{fmt.Sprintf("%s: %d reference(s) never put %s (device_initialize holds the first)\n"+
		"get_device at: %s\nput_device at: %s", d.path, refs, what, sites(t.gets), sites(t.puts))}
}

// devresLeaks reports devres actions left on a device no driver is bound
// to.
func (d *Device) devresLeaks() []string {
	d.mu.Lock()
	drv, released := d.driver, d.released
	d.mu.Unlock()
	if drv != nil || released || d.devres.Empty() {
		return nil
	}
	return []string{fmt.Sprintf("%s: %d action(s) left with no driver bound (released only at the last put_device):\n%s",
		d.path, d.devres.Len(), strings.Join(d.devres.Pending(), "\n"))}
}

// sites lists call sites, each once with its count, in first-seen order.
func sites(os []env.Origin) string {
	if len(os) == 0 {
		return "none"
	}
	var order []string
	count := map[string]int{}
	for _, o := range os {
		s := o.Site()
		if s == "" {
			s = "?"
		}
		if count[s] == 0 {
			order = append(order, s)
		}
		count[s]++
	}
	for i, s := range order {
		if n := count[s]; n > 1 {
			order[i] = fmt.Sprintf("%s x%d", s, n)
		}
	}
	return strings.Join(order, ", ")
}
