"""The leader terminal's window: the jurisdiction's figures on a big screen, and the relayed video."""
