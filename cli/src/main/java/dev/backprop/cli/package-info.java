/**
 * The {@code backprop} command line: {@link dev.backprop.cli.Main} and one class per subcommand
 * ({@code backends} now; {@code train}, {@code eval} and {@code predict} join it as further subcommands).
 * Run it through {@code bin/backprop}, which passes the JVM options the backends need.
 */
package dev.backprop.cli;
