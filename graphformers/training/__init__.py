"""Training: the LightningModule, objectives, checkpointing and the recipe runner."""
