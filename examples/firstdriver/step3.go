package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/trace"
)

// ecProvider publishes an EC's state to its files.
type ecProvider = revocable.Provider[ec]

// probe is step 2's probe plus one devm call: the EC is published through
// a revocable provider whose revoke is a devres action too. It is
// registered after the registers, so at unbind it runs before iounmap:
// first no new reader gets the EC and the readers inside are waited for,
// then the registers go.
func (b *board) probe(dev *device.Device) error {
	e, err := b.setup(dev)
	if err != nil {
		return err
	}
	p, err := revocable.DevmProvider(dev, e, revocable.WithName(dev.Name()))
	if err != nil {
		return err
	}
	b.providers[dev.Name()] = p // the cdev's private data: what open finds
	return nil
}

// ecFile is an open /dev/ec.N: it holds a consumer handle, never the EC.
type ecFile struct {
	c *revocable.Consumer[ec]
}

// open is the file's open: a consumer on the device's provider, or
// -ENODEV once the provider is revoked.
func (b *board) open(name string) (*ecFile, error) {
	c, err := revocable.New(b.providers[name])
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, device.ErrNoDevice)
	}
	return &ecFile{c: c}, nil
}

// read sends cmd to the EC inside a read section: the EC cannot be revoked
// (nor its registers unmapped) until the section ends.
func (f *ecFile) read(cmd string) (string, error) {
	var answer string
	err := f.c.OrReturn(func(e *ec) error {
		answer = e.xfer(cmd)
		return nil
	})
	if errors.Is(err, revocable.ErrRevoked) {
		return "", fmt.Errorf("read %s: %w", cmd, device.ErrNoDevice)
	}
	return answer, err
}

// close is the file's release: it drops the consumer's reference.
func (f *ecFile) close() error { return f.c.Close() }

// Step 3: a file that outlives the device. The file is opened while ec.0
// is bound; a read is in flight when ec.0 is unbound: the unbind waits for
// it in the revoke's grace period, and only then unmaps the registers.
// Afterwards the file reads -ENODEV, a new open fails, and the last close
// releases the provider.
func step3(w io.Writer) error {
	sys := drvsim.NewSystem()
	defer sys.Close()
	b := newBoard(sys)
	if err := sys.RegisterDriver(platform.NewDriver("ec", b.probe, nil)); err != nil {
		return err
	}
	dev := sys.NewPlatformDevice("ec.0")
	if err := sys.RegisterDevice(dev); err != nil {
		return err
	}
	f, err := b.open("ec.0")
	if err != nil {
		return err
	}
	answer, err := f.read("version")
	fmt.Fprintf(w, "read: %q, %v\n", answer, err)

	// A read in flight: the EC is busy with "status" until we let it go.
	seq := sys.Log().Seq()
	inside, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b.busy = func(string) {
		once.Do(func() {
			close(inside)
			<-resume
			note(sys, "reader", "the EC answered; leaving the read section")
		})
	}
	type result struct {
		answer string
		err    error
	}
	done := make(chan result)
	go func() {
		answer, err := f.read("status")
		done <- result{answer, err}
	}()
	<-inside
	note(sys, "reader", "inside the read section, the EC is busy")

	waiting, cancel := when(sys.Log(), "synchronize_srcu", "grace period 1 start")
	defer cancel()
	unbound := make(chan error)
	go func() { unbound <- sys.Unbind(dev) }()
	<-waiting
	note(sys, "main", "unbind is waiting in the grace period; the EC answers now")
	close(resume)
	r := <-done
	if err := <-unbound; err != nil {
		return err
	}
	fmt.Fprint(w, trace.Text(trace.Filter(sys.Log().Since(seq), func(e trace.Event) bool {
		return e.Kind != trace.Notify && e.Kind != trace.Uevent
	})))

	fmt.Fprintf(w, "read in flight: %q, %v\n", r.answer, r.err)
	_, err = f.read("status")
	fmt.Fprintf(w, "read after unbind: %v\n", err)
	_, err = b.open("ec.0")
	fmt.Fprintf(w, "open after unbind: %v\n", err)
	p := b.providers["ec.0"]
	fmt.Fprintf(w, "before close: provider refs=%d released=%t\n", p.Refs(), p.Released())
	if err := f.close(); err != nil {
		return err
	}
	fmt.Fprintf(w, "after close: provider refs=%d released=%t\n", p.Refs(), p.Released())
	return nil
}

// note records a line of the story in the trace.
func note(sys *drvsim.System, who, msg string) {
	sys.Log().Emit(trace.Event{Kind: trace.Note, Func: who, Msg: msg})
}

// when returns a channel closed when log records an event of function fn
// whose message starts with msg, and the function that stops watching.
func when(log *trace.Log, fn, msg string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	cancel := log.Subscribe(func(e trace.Event) {
		if e.Func == fn && strings.HasPrefix(e.Msg, msg) {
			once.Do(func() { close(ch) })
		}
	})
	return ch, cancel
}
