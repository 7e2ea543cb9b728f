"""What operators and demonstrators run, beside the services: the `carepath` command, the demo
journey, the event log reader and a Trust system's producer. A tool may import services; nothing
in `shared/` or `services/` imports a tool."""
