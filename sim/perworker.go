package sim

import "sync"

// PerWorker turns a scenario that keeps state across runs (a rig closed
// after the exploration, counters of outcomes) into one Explore may run on
// several workers at once: each worker gets its own instance from
// newScenario, made on the worker's first run, and close calls every
// instance's done (which may be nil) once the exploration is over.
func PerWorker(newScenario func() (scenario func(*Sim), done func())) (scenario func(*Sim), close func()) {
	p := &perWorker{new: newScenario}
	return p.run, p.close
}

// perWorker holds PerWorker's instances, by worker.
type perWorker struct {
	new   func() (func(*Sim), func())
	mu    sync.Mutex
	runs  []func(*Sim)
	dones []func()
}

// run sets up a run with the instance of its worker. (A method, not a
// closure, so that reports' call sites leave it out with the rest of
// package sim.)
//
//go:noinline
func (p *perWorker) run(s *Sim) {
	w := s.Worker()
	p.mu.Lock()
	for len(p.runs) <= w {
		p.runs = append(p.runs, nil)
	}
	if p.runs[w] == nil {
		run, done := p.new()
		p.runs[w] = run
		if done != nil {
			p.dones = append(p.dones, done)
		}
	}
	run := p.runs[w]
	p.mu.Unlock()
	run(s)
}

func (p *perWorker) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range p.dones {
		d()
	}
	p.runs, p.dones = nil, nil
}
