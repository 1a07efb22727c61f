"""The CardHolder aggregate: a legal person or operator of an enterprise and their permissions."""
