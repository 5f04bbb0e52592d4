package of_test

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/of"
)

// Load a tree, read a node's properties, then apply an overlay that adds
// a node and remove it again.
func ExampleLoad() {
	e := env.New()
	tree, err := of.Load(e, "board.dts", []byte(`/dts-v1/;
/ {
	osc: oscillator { compatible = "fixed-clock"; #clock-cells = <0>; clock-frequency = <24000000>; };
	bus: bus { };
};`))
	if err != nil {
		fmt.Println(err)
		return
	}
	osc := tree.FindByLabel("osc")
	hz, _ := osc.ReadU32("clock-frequency")
	fmt.Println(osc.Path(), osc.Compatible(), hz)

	ov, err := tree.ApplyOverlay("uart.dtso", []byte(`/dts-v1/;
/plugin/;
&bus { uart { compatible = "acme,uart"; clocks = <&osc>; }; };`))
	if err != nil {
		fmt.Println(err)
		return
	}
	uart := tree.FindByPath("/bus/uart")
	fmt.Println(uart.Path(), uart.ParsePhandle("clocks", 0).Path(), uart.Suppliers())
	fmt.Println(tree.RemoveOverlay(ov.ID()), tree.FindByPath("/bus/uart") == nil)
	// Output:
	// /oscillator [fixed-clock] 24000000
	// /bus/uart /oscillator [/oscillator]
	// <nil> true
}
