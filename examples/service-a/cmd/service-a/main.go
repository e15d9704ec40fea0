// Command service-a prints a greeting with the platform it was built for.
package main

import (
	"fmt"
	"runtime"
)

func main() {
	fmt.Printf("hello from service-a (%s/%s)\n", runtime.GOOS, runtime.GOARCH)
}
