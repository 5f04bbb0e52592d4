// Command firstdriver is the program of docs/tutorial.md: ec, a platform
// driver for an embedded controller, with a character device, an
// interrupt, and its state behind revocable (ec.go), the simulated chip
// it drives (chip.go), and a run of it on a simulated machine (this
// file). race_test.go explores every interleaving of a read of /dev/ec0
// with the EC's unbind.
//
//	go run ./examples/firstdriver
//	go test ./examples/firstdriver
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/trace"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "firstdriver:", err)
		os.Exit(1)
	}
}

// run loads the module on a new machine, plugs two ECs, reads /dev/ec0,
// unbinds the EC while the file is open, and unloads the module; after
// each step it prints the step's trace.
func run(w io.Writer) error {
	sys := drvsim.NewSystem()
	defer sys.Close()
	var seq uint64
	step := func(format string, args ...any) {
		fmt.Fprintf(w, "== "+format+"\n", args...)
		fmt.Fprint(w, trace.Text(sys.Log().Since(seq)))
		seq = sys.Log().Seq()
	}

	m, err := ecInit(sys) // insmod ec
	if err != nil {
		return err
	}
	step("insmod ec")
	ec0, err := plugEC(sys, "ec.0", ecFirmware, 17)
	if err != nil {
		return err
	}
	step("plug ec.0: %s", ec0.State())
	ec1, err := plugEC(sys, "ec.1", "bootloader-1.0", 18)
	if err != nil {
		return err
	}
	step("plug ec.1 (stuck in its bootloader): %s", ec1.State())

	f, err := chardev.Open(sys, "/dev/ec0")
	if err != nil {
		return err
	}
	temp, err := f.Read(16)
	step("open /dev/ec0, read: %q %v", temp, err)

	if err := sys.Unbind(ec0); err != nil { // echo ec.0 > /sys/bus/platform/drivers/ec/unbind
		return err
	}
	step("unbind ec.0, the file still open")
	_, err = f.Read(16)
	step("read: %v", err)
	_, err = chardev.Open(sys, "/dev/ec0")
	step("open: %v", err)
	err = f.Close()
	step("close: %v", err)

	if err := m.exit(sys); err != nil { // rmmod ec
		return err
	}
	step("rmmod ec")
	fmt.Fprintf(w, "leaks: %d, reports: %d\n", len(sys.Memory().Leaks()), len(sys.Memory().Reports()))
	return nil
}
