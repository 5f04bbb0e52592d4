package kernel

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// Kref is the kernel's struct kref, a reference count on a refcount_t:
// kref_init, kref_get, kref_get_unless_zero, kref_put, kref_read. The
// release function given to Put runs exactly once, when the count drops
// to zero.
//
// Misuse draws refcount_t's warnings (refcount_warn_saturate), filed with
// env.Env.Report (a failed run under the simulator) and leaving the count
// sane: a Get on zero ("addition on 0; use-after-free") leaves it at zero
// and does not revive the object; a Put on zero ("underflow;
// use-after-free") leaves it at zero and runs no release; a count that
// would pass math.MaxInt32 saturates ("saturated; leaking memory") and
// never drops to zero again. When the count lives in a simulated
// allocation (EmbedIn), every operation is also an access to it, so a Get
// after the release freed it is a KASAN use-after-free. The zero value is
// not usable; create one with NewKref.
type Kref struct {
	e    *env.Env
	name string
	obj  *env.Object

	mu        sync.Mutex
	n         int64
	saturated bool
}

// krefMax is where refcount_t saturates (REFCOUNT_SATURATED is INT_MIN/2;
// a count this high is an overflow either way). A variable for the tests.
var krefMax int64 = math.MaxInt32

// NewKref returns a reference count named name set to one (kref_init) in
// h's environment; the name appears in warnings and traces.
func NewKref(h env.Host, name string) *Kref {
	return &Kref{e: env.Of(h), name: name, n: 1}
}

// EmbedIn makes the count part of the simulated allocation o (a struct
// with an embedded kref): every operation is checked as an access to o,
// so one after the release freed o is a use-after-free. It returns k.
func (k *Kref) EmbedIn(o *env.Object) *Kref {
	k.mu.Lock()
	k.obj = o
	k.mu.Unlock()
	return k
}

// Name returns the count's name.
func (k *Kref) Name() string { return k.name }

func (k *Kref) access(fn string) {
	k.mu.Lock()
	o := k.obj
	k.mu.Unlock()
	if o != nil {
		o.Access(fn + " " + k.name)
	}
}

// Init is kref_init: the count is one again.
func (k *Kref) Init() {
	k.access("kref_init")
	k.mu.Lock()
	k.n, k.saturated = 1, false
	k.mu.Unlock()
}

// Read is kref_read: the current count.
func (k *Kref) Read() int {
	k.access("kref_read")
	k.mu.Lock()
	defer k.mu.Unlock()
	return int(k.n)
}

// Get is kref_get: one more reference. The caller must hold one already;
// a Get on zero is a use-after-free warning and changes nothing.
func (k *Kref) Get() {
	k.access("kref_get")
	k.mu.Lock()
	switch {
	case k.saturated:
		k.mu.Unlock()
		return
	case k.n == 0:
		k.mu.Unlock()
		k.warn(env.BugUseAfterFree, "refcount_t: addition on 0; use-after-free.")
		return
	case k.n == krefMax:
		k.saturated = true
		k.mu.Unlock()
		k.warn(env.BugLeak, "refcount_t: saturated; leaking memory.")
		return
	}
	k.n++
	k.mu.Unlock()
}

// GetUnlessZero is kref_get_unless_zero: one more reference unless the
// count is already zero (the object is being released); it reports
// whether it took one. This is how a lookup in a table that does not own
// a reference gets one safely.
func (k *Kref) GetUnlessZero() bool {
	k.access("kref_get_unless_zero")
	k.mu.Lock()
	switch {
	case k.saturated:
		k.mu.Unlock()
		return true
	case k.n == 0:
		k.mu.Unlock()
		return false
	case k.n == krefMax:
		k.saturated = true
		k.mu.Unlock()
		k.warn(env.BugLeak, "refcount_t: saturated; leaking memory.")
		return true
	}
	k.n++
	k.mu.Unlock()
	return true
}

// Put is kref_put: one reference less; at zero release runs (on the
// caller, after the count is zero, exactly once) and Put reports true.
// release must not be nil (the kernel WARNs): it is reported and the
// count is not touched.
func (k *Kref) Put(release func()) bool {
	if release == nil {
		k.e.Log().Emit(trace.Event{Kind: trace.Warn, Func: "kref_put", Msg: k.name + ": no release function"})
		return false
	}
	k.access("kref_put")
	k.mu.Lock()
	switch {
	case k.saturated:
		k.mu.Unlock()
		return false
	case k.n == 0:
		k.mu.Unlock()
		k.warn(env.BugUseAfterFree, "refcount_t: underflow; use-after-free.")
		return false
	}
	k.n--
	last := k.n == 0
	k.mu.Unlock()
	if last {
		k.e.Log().Emit(trace.Event{Kind: KindKref, Func: "kref_put", Msg: k.name + ": last reference, release"})
		release()
	}
	return last
}

// warn files refcount_t's warning for k.
func (k *Kref) warn(kind env.BugKind, msg string) {
	k.e.Report("refcount_warn_saturate", &env.Report{Kind: kind, Title: "WARNING: " + msg,
		Details: fmt.Sprintf("kref %s\nCall trace:\n%s\n", k.name, strings.Join(env.Callers(1), "\n"))})
}
