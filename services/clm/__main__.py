from shared.backbone.app import serve
from services.clm.main import definition

serve(definition)
