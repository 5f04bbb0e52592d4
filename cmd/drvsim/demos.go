package main

import (
	"fmt"
	"io"

	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim"
	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/trace"
)

// demo is one narrated story.
type demo struct {
	name, about string
	run         func(w io.Writer) error
}

// demoSeed is the seed the default demo explores from, fixed so its output
// is the same on every run.
const demoSeed = 1

var demos = []demo{
	{"usb-unplug", "a USB device unplugged mid-read: revocable skeleton, then the broken one and its use-after-free",
		func(w io.Writer) error { return scenario.Demo(w, demoSeed) }},
	{"drm-unplug", "a DisplayLink-like USB display unplugged while a flush is in flight (drm_dev_unplug)", demoDRM},
	{"devres", "managed resources released newest first at unbind (devres_release_all)", demoDevres},
}

func listDemos(w io.Writer) {
	fmt.Fprintln(w, "demos:")
	for _, d := range demos {
		fmt.Fprintf(w, "  %-12s %s\n", d.name, d.about)
	}
}

func runDemo(name string, stdout, stderr io.Writer) int {
	for _, d := range demos {
		if d.name == name {
			if err := d.run(stdout); err != nil {
				fmt.Fprintf(stderr, "drvsim: %v\n", err)
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "drvsim: no demo %q\n", name)
	listDemos(stderr)
	return 2
}

// demoDRM runs the DRM unplug story.
func demoDRM(w io.Writer) error {
	res, err := udlsim.UnplugDemo()
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "== A USB display is flushing its framebuffer when it is unplugged")
	fmt.Fprint(w, res.Trace)
	fmt.Fprintf(w, "flush: %v\nafter unplug: %v\n", res.FlushErr, res.AfterErrs)
	return nil
}

// demoDevres tells the story of managed resources released in reverse.
func demoDevres(w io.Writer) error {
	fmt.Fprintln(w, "== A driver acquires three resources with devm_* helpers")
	log := trace.NewLog()
	l := devres.NewList("/sys/devices/platform/serial0")
	l.Attach(log, nil)
	for _, n := range []string{"clk_disable_unprepare", "free_irq", "iounmap"} {
		if _, err := l.Add(n, func() {}); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "== The device is unbound: devres_release_all runs them newest first")
	l.ReleaseAll()
	fmt.Fprint(w, log.String())
	return nil
}
