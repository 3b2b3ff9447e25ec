from shared.backbone.app import serve
from services.projection.main import definition

serve(definition)
