# The modules were called from this root before ../../stack existed: these moves keep their
# state under module.flightdeck (terraform plan shows moves, not a destroy and a create).
moved {
  from = module.network
  to   = module.flightdeck.module.network
}

moved {
  from = module.identity
  to   = module.flightdeck.module.identity
}

moved {
  from = module.registry
  to   = module.flightdeck.module.registry
}

moved {
  from = module.pubsub
  to   = module.flightdeck.module.pubsub
}

moved {
  from = module.database
  to   = module.flightdeck.module.database
}

moved {
  from = module.runtime
  to   = module.flightdeck.module.runtime
}

moved {
  from = module.edge
  to   = module.flightdeck.module.edge
}

moved {
  from = module.monitoring
  to   = module.flightdeck.module.monitoring
}
