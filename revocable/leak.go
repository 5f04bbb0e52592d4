package revocable

import (
	"fmt"
	"strings"
	"sync"

	"github.com/drvsim/drvsim/env"
)

// Under a simulator a provider records where each of its consumers was
// opened, and its machine's leak check (env.LeakRevocable) looks at it when
// a run ends: a revoked provider must have been released, i.e. every
// consumer of it closed. A consumer left open pins the provider after its
// device is gone, as a file never closed pins the kernel's struct
// revocable_provider. (Consumers of a provider not revoked are not leaks:
// its device is still there.)

// openConsumers are a provider's consumers not closed yet, with where each
// was opened.
type openConsumers struct {
	mu    sync.Mutex
	order []any
	at    map[any]env.Origin
}

func (o *openConsumers) add(c any, at env.Origin) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.at == nil {
		o.at = map[any]env.Origin{}
	}
	o.order = append(o.order, c)
	o.at[c] = at
}

func (o *openConsumers) remove(c any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.at, c)
	for i, x := range o.order {
		if x == c {
			o.order = append(o.order[:i], o.order[i+1:]...)
			break
		}
	}
}

// leaks reports a revoked provider that is not released.
func (p *Provider[T]) leaks() []string {
	if !p.revoked.Load() || p.released.Load() {
		return nil
	}
	o := p.open
	o.mu.Lock()
	defer o.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "provider %s: revoked but not released (refs=%d): %d consumer(s) never closed", p.name, p.refs.Load(), len(o.order))
	for _, c := range o.order {
		b.WriteString("\n  consumer opened " + strings.ReplaceAll(o.at[c].String(), "\n", "\n  "))
	}
	return []string{b.String()}
}
