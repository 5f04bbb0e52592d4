package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

const serveUsage = `usage: drvsim serve [-addr A] [-port N] [-script FILE | -dts FILE]

A simulated machine in the browser. Starts a web server (on 127.0.0.1 by
default), prints its URL and serves a page that shows the machine's device
tree and its trace, one lane per task, as they change; its controls do what
the shell does (plug and unplug, bind and unbind, open, read and close); it
runs the demos step by step, and steps forward and back through the
schedule of any explorer scenario, showing at each step the tree, every
task's state and the memory checker's objects, and the report at the step
that caused it.

The machine is an empty USB bus (a host controller with 4 ports), or the one
a lesson script builds (-script, the shell's .drvsh), or the one a device
tree describes (-dts). Ctrl-C (SIGINT) or SIGTERM stops the server.

Exit status: 0 after a clean stop, 1 when the server or the machine cannot
start, 2 on bad usage.

flags:
`

func serveHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, serveUsage)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// runServe is `drvsim serve`: it serves until SIGINT or SIGTERM.
func runServe(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveMain(ctx, args, stdout, stderr)
}

// serveMain is runServe until ctx is done.
func serveMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1", "the `address` to listen on (127.0.0.1: this computer only)")
	port := fs.Int("port", 8080, "the TCP `port`; 0 picks a free one")
	script := fs.String("script", "", "build the machine with this lesson script (.drvsh, as drvsim shell runs it)")
	dts := fs.String("dts", "", "build the machine from this device-tree source")
	pos, status := parseFlags(fs, args, stdout, stderr, serveHelp)
	if status >= 0 {
		return status
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "drvsim serve: "+format+"\n", a...)
		serveHelp(stderr, fs)
		return 2
	}
	switch {
	case len(pos) > 0:
		return usage("unexpected argument %q", pos[0])
	case *port < 0 || *port > 65535:
		return usage("-port %d: want 0 to 65535", *port)
	case *script != "" && *dts != "":
		return usage("-script and -dts both given: the machine is built by one of them")
	}
	boot, what := bootUSB, "an empty USB bus (usb1, 4 ports)"
	var err error
	switch {
	case *script != "":
		boot, what = nil, "the machine of "+*script
		if boot, err = scriptLines(*script); err != nil {
			fmt.Fprintf(stderr, "drvsim serve: %v\n", err)
			return 2
		}
	case *dts != "":
		what = "the machine of " + *dts
		if boot, err = dtsBoot(*dts); err != nil {
			fmt.Fprintf(stderr, "drvsim serve: -dts %s: %v\n", *dts, err)
			return 2
		}
	}
	m, err := newLiveMachine(boot)
	if err != nil {
		fmt.Fprintf(stderr, "drvsim serve: building %s: %v\n", what, err)
		return 1
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*addr, strconv.Itoa(*port)))
	if err != nil {
		m.close()
		fmt.Fprintf(stderr, "drvsim serve: %v\n", err)
		return 1
	}
	s := newServer(m)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "drvsim serve: %s on http://%s/ (Ctrl-C stops it)\n", what, displayAddr(ln.Addr()))
	err = serveCtx(ctx, srv, s, func() error { return srv.Serve(ln) })
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "drvsim serve: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "drvsim serve: stopped")
	return 0
}

// displayAddr is the address to put in a URL: an unspecified listen
// address (0.0.0.0, ::) is reached on the loopback.
func displayAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(ta.Port))
}
